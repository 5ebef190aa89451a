// `wapt-get completion bash|zsh|fish|powershell`: a completion script built from the
// same declarations as the help (verbs, aliases, each verb's options), so it never drifts.
import type { CommandSpec } from '../command.js';

interface VerbWords {
  name: string;
  summary: string;
  options: string[];
}

const GLOBAL = ['--json', '--quiet', '--verbose', '--no-color', '--config', '--version', '--help'];

function longFlags(flags: string): string[] {
  return flags
    .split(/[ ,|]+/)
    .filter((f) => f.startsWith('--'))
    .map((f) => f.replace(/[<[].*$/, ''));
}

async function verbWords(): Promise<VerbWords[]> {
  const { commandEntries } = await import('./index.js');
  const specs = await Promise.all(commandEntries.map((e) => e.load()));
  const out: VerbWords[] = [];
  for (const s of specs) {
    const options = [...(s.options ?? []).flatMap((o) => longFlags(o.flags)), '--help'];
    for (const name of [s.name, ...(s.aliases ?? [])]) out.push({ name, summary: s.summary, options });
  }
  return out;
}

const q = (s: string) => s.replace(/'/g, `'\\''`);

function bash(verbs: VerbWords[]): string {
  const cases = verbs.map((v) => `    ${v.name}) opts='${v.options.join(' ')}' ;;`).join('\n');
  return `# wapt-get bash completion: eval "$(wapt-get completion bash)" (or save it in /etc/bash_completion.d/wapt-get)
_wapt_get() {
  local cur verb i opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  verb=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -c|--config) ((i++)) ;;
      -*) ;;
      *) verb="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$verb" ]]; then
    if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W '${GLOBAL.join(' ')}' -- "$cur"))
    else COMPREPLY=($(compgen -W '${verbs.map((v) => v.name).join(' ')}' -- "$cur")); fi
    return
  fi
  case "$verb" in
${cases}
    *) opts='' ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts ${GLOBAL.join(' ')}" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _wapt_get wapt-get
`;
}

function zsh(verbs: VerbWords[]): string {
  const list = verbs.map((v) => `    '${v.name}:${q(v.summary.replace(/:/g, '\\:'))}'`).join('\n');
  const cases = verbs.map((v) => `      ${v.name}) _arguments '*:file:_files' ${v.options.map((o) => `'${o}'`).join(' ')} ;;`).join('\n');
  return `#compdef wapt-get
# wapt-get zsh completion: wapt-get completion zsh > "\${fpath[1]}/_wapt-get"
_wapt_get() {
  local -a verbs
  verbs=(
${list}
  )
  if (( CURRENT == 2 )); then
    _describe 'wapt-get verb' verbs
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _wapt_get wapt-get
`;
}

function fish(verbs: VerbWords[]): string {
  const lines = ['# wapt-get fish completion: wapt-get completion fish > ~/.config/fish/completions/wapt-get.fish'];
  for (const g of GLOBAL) lines.push(`complete -c wapt-get -l ${g.slice(2)}`);
  for (const v of verbs) {
    lines.push(`complete -c wapt-get -n '__fish_use_subcommand' -a ${v.name} -d '${q(v.summary)}'`);
    for (const o of v.options) lines.push(`complete -c wapt-get -n '__fish_seen_subcommand_from ${v.name}' -l ${o.slice(2)}`);
  }
  return lines.join('\n') + '\n';
}

function powershell(verbs: VerbWords[]): string {
  const table = verbs.map((v) => `  '${v.name}' = @(${v.options.map((o) => `'${o}'`).join(', ')})`).join('\n');
  return `# wapt-get PowerShell completion: wapt-get completion powershell | Out-String | Invoke-Expression (add it to $PROFILE)
$waptGetVerbs = @{
${table}
}
Register-ArgumentCompleter -Native -CommandName wapt-get -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
  $verb = $words | Select-Object -Skip 1 | Where-Object { $_ -notlike '-*' } | Select-Object -First 1
  if (-not $verb -or ($verb -eq $wordToComplete)) { $candidates = $waptGetVerbs.Keys }
  else { $candidates = $waptGetVerbs[$verb] + @(${GLOBAL.map((g) => `'${g}'`).join(', ')}) }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | Sort-Object | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`;
}

const SHELLS = { bash, zsh, fish, powershell } as const;

export const command: CommandSpec = {
  name: 'completion',
  summary: 'print a shell completion script: bash, zsh, fish or powershell',
  args: ['<shell>'],
  help: 'bash: eval "$(wapt-get completion bash)" in ~/.bashrc, or save it as /etc/bash_completion.d/wapt-get.',
  async run(ctx, [shell]) {
    const { WaptError } = await import('../../errors.js');
    const make = SHELLS[shell as keyof typeof SHELLS];
    if (!make) throw new WaptError('USAGE', `completion ${String(shell)}: choose bash, zsh, fish or powershell`);
    const script = make(await verbWords());
    ctx.out.result({ shell, script }, () => script.replace(/\n$/, ''));
  },
};
