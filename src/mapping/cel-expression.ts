import type { ASTNode, Context, Environment, ParseResult } from '@marcbachmann/cel-js';
import type { ConfigProblem } from '../core/errors.js';

/**
 * What an expression must produce. Kubernetes type-checks validation rules as `bool` (so a bare
 * `claims.email_verified`, typed dyn, is refused: compare it, `== true`) and leaves mappings as `any`; here a
 * mapping whose static type can never be right (an int username) is refused at start too.
 */
export type ExpressionKind = 'string' | 'strings' | 'bool';

const EXPECTED: Record<ExpressionKind, { accepts: (type: string) => boolean; says: string }> = {
  string: { accepts: (t) => t === 'string' || t === 'dyn', says: 'a string' },
  strings: {
    accepts: (t) => t === 'string' || t === 'dyn' || t === 'null' || t.startsWith('list'),
    says: 'a string or a list of strings',
  },
  bool: { accepts: (t) => t === 'bool', says: 'bool' },
};

/** A CEL expression parsed and type-checked once, evaluated per review. */
export interface CelExpression {
  readonly source: string;
  readonly ast: ASTNode;
  /** Throws the library's EvaluationError (missing key, no overload…); callers turn that into an outcome. */
  readonly evaluate: (context: Context) => unknown;
}

/**
 * Parses and type-checks `source`; on failure records a problem at `path` and returns undefined so the
 * caller can go on and report every other bad rule too.
 */
export function compileExpression(
  env: Environment,
  source: string,
  kind: ExpressionKind,
  path: string,
  problems: ConfigProblem[],
): CelExpression | undefined {
  let parsed: ParseResult;
  try {
    parsed = env.parse(source);
  } catch (err) {
    problems.push({ path, message: `compilation failed: ${describeCelError(err)}` });
    return undefined;
  }
  const checked = parsed.check();
  if (!checked.valid) {
    problems.push({ path, message: `compilation failed: ${describeCelError(checked.error)}` });
    return undefined;
  }
  const type = checked.type ?? 'dyn';
  const expected = EXPECTED[kind];
  if (!expected.accepts(type)) {
    const hint = kind === 'bool' && type === 'dyn' ? ' (compare the value explicitly, e.g. `== true`)' : '';
    problems.push({ path, message: `must evaluate to ${expected.says}, but evaluates to ${type}${hint}` });
    return undefined;
  }
  return { source, ast: parsed.ast, evaluate: parsed };
}

/** One line from a cel-js error: its summary and, when known, the column it points at. */
export function describeCelError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { summary, range } = err as { summary?: string; range?: { start: number } };
  const text = summary ?? err.message.split('\n')[0] ?? err.name;
  return range ? `${text} (column ${range.start + 1})` : text;
}
