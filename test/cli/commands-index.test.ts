// The lazy verb list must name exactly what each module declares, or a verb would be
// unreachable (or reachable under a name its help does not show).
import { commandEntries, findEntry, loadCommands } from '../../src/cli/commands/index.js';

test('every entry loads a command whose name and aliases match the entry', async () => {
  for (const entry of commandEntries) {
    const spec = await entry.load();
    expect({ name: spec.name, aliases: spec.aliases ?? [] }).toEqual({ name: entry.name, aliases: entry.aliases ?? [] });
  }
});

test('names and aliases are unique', () => {
  const all = commandEntries.flatMap((e) => [e.name, ...(e.aliases ?? [])]);
  expect(new Set(all).size).toBe(all.length);
});

test('the verb is found past global options, including a --config value', () => {
  expect(findEntry(['--json', '-c', 'install', 'list'])?.name).toBe('list');
  expect(findEntry(['--config', 'x.ini', 'scan-packages', 'dir'])?.name).toBe('scanpackages');
  expect(findEntry(['-q', 'no-such-verb'])).toBeUndefined();
});

test('only the verb being run is loaded; --version loads none; help and typos load all', async () => {
  expect((await loadCommands(['-q', 'verify', 'a.wapt'])).map((c) => c.name)).toEqual(['verify']);
  expect(await loadCommands(['--version'])).toEqual([]);
  expect((await loadCommands(['--help'])).length).toBe(commandEntries.length);
  expect((await loadCommands(['instal'])).length).toBe(commandEntries.length);
});
