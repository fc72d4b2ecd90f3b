// Which configurations a workspace defines, so that Apply knows what to offer.

/**
 * Attribute paths of configurations in a flake.nix text, found by a textual scan: the server's code
 * lenses are the authority when it has them; this keeps the palette useful before it answers.
 * Finds `nixosConfigurations.host = …`, `homeConfigurations."alice" = …` and the nested form
 * `nixosConfigurations = { host = …; };`.
 */
export function configurationsInFlake(text: string): string[] {
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^'$])#.*$/gm, '$1');
  const found = new Set<string>();
  const name = String.raw`("[^"]+"|[A-Za-z_][A-Za-z0-9_'-]*)`;
  const kinds = String.raw`(nixosConfigurations|homeConfigurations|darwinConfigurations)`;
  const dotted = new RegExp(String.raw`\b${kinds}\.${name}(?:\s*\.\s*(?:"[^"]*"|[A-Za-z0-9_'-]+))*\s*=(?!=)`, 'g');
  for (const m of noComments.matchAll(dotted)) found.add(`${m[1]}.${m[2]}`);
  const nested = new RegExp(String.raw`\b${kinds}\s*=\s*(?:[A-Za-z_.]+\s*)?\{`, 'g');
  for (const m of noComments.matchAll(nested)) {
    // Walk the braces of this attribute set and take the names assigned at its top level.
    let depth = 1;
    let i = (m.index ?? 0) + m[0].length;
    let stmtStart = i;
    for (; i < noComments.length && depth > 0; i++) {
      const ch = noComments[i];
      if (ch === '{' || ch === '[' || ch === '(') depth++;
      else if (ch === '}' || ch === ']' || ch === ')') depth--;
      else if (ch === '"') {
        const end = noComments.indexOf('"', i + 1);
        if (end > 0) i = end;
      } else if (depth === 1 && ch === ';') stmtStart = i + 1;
      else if (depth === 1 && ch === '=' && noComments[i + 1] !== '=' && !'=!<>'.includes(noComments[i - 1])) {
        const lhs = noComments.slice(stmtStart, i).trim();
        const lm = new RegExp(String.raw`^${name}(?:\s*\.|$)`).exec(lhs);
        if (lm) found.add(`${m[1]}.${lm[1]}`);
        stmtStart = i + 1;
      }
    }
  }
  return [...found];
}

/** Installable for a configuration of the flake in DIR: `DIR#attr.path`. */
export function installable(dir: string, attrPath: string): string {
  return `${dir}#${attrPath}`;
}

/** Installables named by server code lenses or code actions (`arguments[0].installable` of a strata.* command). */
export function installablesFromCommands(cmds: { command?: string; arguments?: unknown[] }[]): string[] {
  const out: string[] = [];
  for (const c of cmds) {
    if (!c.command || !c.command.startsWith('strata.')) continue;
    const arg = c.arguments?.[0] as { installable?: unknown } | undefined;
    if (arg && typeof arg.installable === 'string' && !out.includes(arg.installable)) out.push(arg.installable);
  }
  return out;
}
