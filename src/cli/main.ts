// Process entry used by bin/wapt-get.
import { commands } from './commands/index.js';
import { runProgram } from './program.js';

export async function main(argv: string[]): Promise<void> {
  const code = await runProgram(argv, commands, {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
  });
  process.exitCode = code;
}
