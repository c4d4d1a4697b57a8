/** Builds (or finds up to date) the standalone executable; resolves with its path. */
export function buildSea(options?: { force?: boolean }): Promise<string>;
export const executablePath: string;
export const NODE_VERSION: string;
