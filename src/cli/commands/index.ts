// The list of verbs; program.ts builds commander from it.
import type { CommandSpec } from '../command.js';

export const commands: CommandSpec[] = [];
