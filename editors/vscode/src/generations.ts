// The generation list returned by the server's `strata.generations` command, normalised for display.

/** One generation of a profile. */
export interface Generation {
  number: number;
  /** ISO-like date text as the server gave it, or empty. */
  date: string;
  current: boolean;
  path?: string;
}

function pick(o: Record<string, unknown>, keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

function dateText(v: unknown): string {
  if (typeof v === 'number') {
    // Unix seconds (Nix's profile timestamps) or milliseconds.
    const ms = v < 1e12 ? v * 1000 : v;
    return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }
  return typeof v === 'string' ? v : '';
}

/**
 * Accepts the command's result in the forms a server may reasonably send (a bare list, or an object
 * with `generations` and maybe `current`), with `number`/`generation`/`id` and `date`/`created`/`time`.
 */
export function parseGenerations(result: unknown): Generation[] {
  let list: unknown = result;
  let currentNumber: number | undefined;
  if (result && typeof result === 'object' && !Array.isArray(result)) {
    const o = result as Record<string, unknown>;
    list = o.generations;
    const c = o.current;
    if (typeof c === 'number') currentNumber = c;
  }
  if (!Array.isArray(list)) return [];
  const out: Generation[] = [];
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const o = item as Record<string, unknown>;
    const n = Number(pick(o, ['number', 'generation', 'id']));
    if (!Number.isInteger(n)) continue;
    const cur = pick(o, ['current', 'isCurrent']);
    const p = pick(o, ['path', 'storePath', 'target']);
    out.push({
      number: n,
      date: dateText(pick(o, ['date', 'created', 'time', 'timestamp'])),
      current: cur === true || currentNumber === n,
      path: typeof p === 'string' ? p : undefined,
    });
  }
  return out.sort((a, b) => b.number - a.number);
}

/** The current generation, if the list marks one. */
export function currentGeneration(gens: Generation[]): Generation | undefined {
  return gens.find((g) => g.current);
}

/** Quick-pick rows: newest first, the current one marked. */
export function generationItems(gens: Generation[]): { label: string; description: string; detail?: string; generation: number }[] {
  return gens.map((g) => ({
    label: `${g.current ? '$(check) ' : ''}Generation ${g.number}`,
    description: [g.date, g.current ? '(current)' : ''].filter(Boolean).join('  '),
    detail: g.path,
    generation: g.number,
  }));
}
