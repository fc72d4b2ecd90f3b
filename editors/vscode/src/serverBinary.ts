// Finding the `strata` binary and checking that it is new enough, without the `vscode` module
// so that it can be tested on its own.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The oldest server this extension speaks to (its settings and commands). */
export const MIN_SERVER_VERSION = '0.1.0';

/** How the user can get a server; shown in every "missing" or "too old" notification. */
export const INSTALL_HINT =
  'Install it with `cargo install --locked --path server` in a Strata checkout, or set `strata.server.path` to the binary.';

/** Where the binary was found, or why it was not. */
export type ServerLookup =
  | { kind: 'found'; path: string; source: 'setting' | 'PATH' }
  | { kind: 'missing'; message: string };

function isExecutableFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves the server: the `strata.server.path` setting when set, else `strata` on `PATH`. */
export function findServer(settingPath: string | undefined, envPath: string | undefined, home?: string): ServerLookup {
  const configured = (settingPath ?? '').trim();
  if (configured) {
    const expanded = configured.startsWith('~/') && home ? path.join(home, configured.slice(2)) : configured;
    if (isExecutableFile(expanded)) return { kind: 'found', path: expanded, source: 'setting' };
    return {
      kind: 'missing',
      message: `The Strata language server set in \`strata.server.path\` (${configured}) is not an executable file.`,
    };
  }
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'strata');
    if (isExecutableFile(candidate)) return { kind: 'found', path: candidate, source: 'PATH' };
  }
  return { kind: 'missing', message: 'The Strata language server (`strata`) was not found on PATH.' };
}

/** Extracts `X.Y.Z` from `strata --version` output such as `strata 0.1.0`. */
export function parseVersion(output: string): string | undefined {
  const m = /\b(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?\b/.exec(output);
  return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined;
}

/** Compares two `X.Y.Z` versions: negative, zero or positive like a sort comparator. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The outcome of asking the binary its version. */
export type VersionCheck =
  | { kind: 'ok'; version: string }
  | { kind: 'tooOld'; version: string; message: string }
  | { kind: 'broken'; message: string };

/** Runs `BINARY --version` and judges the answer against {@link MIN_SERVER_VERSION}. */
export function checkVersion(binary: string, timeoutMs = 10000): Promise<VersionCheck> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        resolve({ kind: 'broken', message: `\`${binary} --version\` failed: ${(stderr || err.message).trim()}` });
        return;
      }
      const version = parseVersion(stdout);
      if (!version || !/strata/i.test(stdout)) {
        resolve({ kind: 'broken', message: `${binary} does not look like the Strata server (\`--version\` printed "${stdout.trim()}").` });
      } else if (compareVersions(version, MIN_SERVER_VERSION) < 0) {
        resolve({
          kind: 'tooOld',
          version,
          message: `The Strata server at ${binary} is version ${version}; this extension needs ${MIN_SERVER_VERSION} or newer.`,
        });
      } else {
        resolve({ kind: 'ok', version });
      }
    });
  });
}
