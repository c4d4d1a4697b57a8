import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem } from '../core/errors.js';
import { type ConfigFile, configSchema } from './schema.js';
import { FilePathRef, SecretRef } from './schema-common.js';
import type { ZodError } from './zod.js';

/** Secret references become their values, file references absolute paths. */
export type Resolved<T> = T extends SecretRef
  ? string
  : T extends FilePathRef
    ? string
    : T extends (infer U)[]
      ? Resolved<U>[]
      : T extends object
        ? { [K in keyof T]: Resolved<T[K]> }
        : T;

/** The validated configuration the composition root builds the world from. */
export type Config = Resolved<ConfigFile>;

export interface LoadOptions {
  /** Environment for `env:` secrets; the composition root passes process.env. */
  env: Record<string, string | undefined>;
  /** Folder relative paths are resolved against (the config file's folder). */
  baseDir: string;
}

function zodProblems(error: ZodError): ConfigProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      return { path, message: `unknown key${keys.length > 1 ? 's' : ''}: ${keys.join(', ')}` };
    }
    return { path, message: issue.message };
  });
}

function resolveSecret(
  value: SecretRef,
  path: string,
  options: LoadOptions,
  problems: ConfigProblem[],
): string {
  if (value.source === 'value') return value.ref;
  if (value.source === 'env') {
    const found = options.env[value.ref];
    if (found === undefined || found === '') {
      problems.push({ path, message: `environment variable ${value.ref} is not set` });
      return '';
    }
    return found;
  }
  const file = isAbsolute(value.ref) ? value.ref : resolve(options.baseDir, value.ref);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    problems.push({ path, message: `cannot read secret file ${value.ref}: ${(err as Error).message}` });
    return '';
  }
}

function resolveRefs(value: unknown, path: string, options: LoadOptions, problems: ConfigProblem[]): unknown {
  if (value instanceof SecretRef) {
    const resolved = resolveSecret(value, path, options, problems);
    if (
      value.minBytes !== undefined &&
      resolved !== '' &&
      Buffer.byteLength(resolved, 'utf8') < value.minBytes
    ) {
      problems.push({
        path,
        message: `must be at least ${value.minBytes} bytes (e.g. openssl rand -base64 48)`,
      });
    }
    return resolved;
  }
  if (value instanceof FilePathRef) {
    const file = isAbsolute(value.path) ? value.path : resolve(options.baseDir, value.path);
    try {
      accessSync(file, constants.R_OK);
    } catch {
      problems.push({ path, message: `file not readable: ${value.path}` });
    }
    return file;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveRefs(v, `${path}.${i}`, options, problems));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = resolveRefs(v, path ? `${path}.${k}` : k, options, problems);
    return out;
  }
  return value;
}

/**
 * Validates an already-parsed configuration object: schema, then secrets and file paths. Throws
 * ConfigError listing every problem by path.
 */
export function parseConfig(raw: unknown, options: LoadOptions): Config {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(zodProblems(parsed.error));
  const problems: ConfigProblem[] = [];
  const resolved = resolveRefs(parsed.data, '', options, problems) as Config;
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/** Parses YAML text; syntax errors are reported with line and column. */
export function parseConfigText(text: string, options: LoadOptions): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message}` })));
  }
  return parseConfig(doc.toJS(), options);
}

/** Reads and validates a configuration file. */
export function loadConfigFile(file: string, env: Record<string, string | undefined>): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read ${file}: ${(err as Error).message}` }], {
      cause: err,
    });
  }
  return parseConfigText(text, { env, baseDir: dirname(resolve(file)) });
}

export type StoreConfig = Config['store'];
export type RedisConfig = NonNullable<Config['store']['redis']>;
export type TokensConfig = Config['tokens'];
export type VerifierConfig = NonNullable<Config['verifier']>;
export type IssuerConfig = NonNullable<Config['issuer']>;
export type ProxyConfig = NonNullable<Config['proxy']>;
export type UpstreamConfig = IssuerConfig['upstreams'][number];
export type ClusterConfig = IssuerConfig['clusters'][number];
export type MappingConfig = Config['mapping'];
