import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Claims } from '../../core/identity.js';
import { UsageError } from '../io.js';

/**
 * `--claims` as the admin commands take it: inline JSON (`'{"email":"a@example.com"}'`) or `@FILE`
 * holding that JSON (relative to the working directory). Must be a JSON object.
 */
export function readClaimsArgument(value: string, cwd: string): Claims {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(resolve(cwd, value.slice(1)), 'utf8');
    } catch (err) {
      throw new UsageError(`--claims: cannot read ${value.slice(1)}: ${(err as Error).message}`);
    }
  }
  let claims: unknown;
  try {
    claims = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--claims: not JSON: ${(err as Error).message}`);
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new UsageError('--claims: expected a JSON object of claims');
  }
  return claims as Claims;
}
