import type { CliIO } from '../io.js';

// Placeholder until this command lands.
export async function run(_argv: string[], io: CliIO): Promise<number> {
  io.stderr.write('setup: not implemented yet\n');
  return 1;
}
