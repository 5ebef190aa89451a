// Process entry used by bin/wapt-get.
import { loadCommands } from './commands/index.js';
import { runProgram } from './program.js';

export async function main(argv: string[]): Promise<void> {
  // `wapt-get … | head` closes the pipe early: that is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const commands = await loadCommands(argv.slice(2));
  const code = await runProgram(argv, commands, {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
  });
  process.exitCode = code;
}
