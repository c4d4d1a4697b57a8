/**
 * Parses durations as admins write them in config and flags: `90s`, `15m`, `12h`, `7d`, `1h30m`, or a
 * plain number of seconds. Returns whole seconds, or undefined when the text is not a duration.
 */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isInteger(input) && input >= 0 ? input : undefined;
  const text = input.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const re = /(\d+)(d|h|m|s)/gy;
  const unit: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1 };
  let total = 0;
  let consumed = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    total += Number(match[1]) * (unit[match[2] as string] as number);
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

/** `900` → `15m`, `45000` → `12h30m`: for messages and docs. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  let rest = seconds;
  for (const [suffix, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${suffix}`);
    rest -= n * size;
  }
  return parts.join('');
}
