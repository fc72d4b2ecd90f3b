// Apply / Build / Rollback / Generations as the client runs them: `workspace/executeCommand` with
// one argument object (issue 9), a work-done token of our own, progress of that token and of any
// token the server creates while the job runs, and Cancel sent as `window/workDoneProgress/cancel`.
// No `vscode` import: the editor side comes in through `JobUi`, so the logic runs in node:test.
import { ProgressType } from 'vscode-jsonrpc';

/** What the jobs need from the language client (a subset shared by LanguageClient and MessageConnection). */
export interface ServerConnection {
  sendRequest(method: string, params: unknown): Promise<unknown>;
  sendNotification(method: string, params: unknown): Promise<void> | void;
  onProgress<P>(type: ProgressType<P>, token: string | number, handler: (value: P) => void): { dispose(): void };
}

/** The `$/progress` values of LSP work-done progress. */
export interface WorkDoneValue {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
  cancellable?: boolean;
}

/** Work-done progress payloads (same method string as vscode-languageserver-protocol's). */
export const workDoneProgress = new ProgressType<WorkDoneValue>();

/** One running progress display. */
export interface ProgressSink {
  /** Shows a message and, when known, the overall percentage (0–100). */
  report(message: string | undefined, percentage: number | undefined): void;
  /** Registers what Cancel does. */
  onCancel(handler: () => void): void;
}

/** The editor side of a job. */
export interface JobUi {
  /** Runs TASK under a cancellable progress notification titled TITLE. */
  withProgress<T>(title: string, task: (sink: ProgressSink) => Promise<T>): Promise<T>;
}

/** The server's commands (issue 9). */
export type StrataCommand = 'strata.apply' | 'strata.build' | 'strata.rollback' | 'strata.generations';

/** Argument of `strata.apply` / `strata.build`. */
export interface BuildArgs {
  installable: string;
  profile?: string;
  engine?: 'nix' | 'native';
}
/** Argument of `strata.rollback`. */
export interface RollbackArgs {
  installable?: string;
  profile?: string;
  to?: number;
}
/** Argument of `strata.generations`. */
export interface GenerationsArgs {
  installable?: string;
  profile?: string;
}

let tokenCounter = 0;

/**
 * Runs the user's jobs one at a time and routes progress to them. The server may report on the
 * token we pass (`workDoneToken`) or on tokens it creates with `window/workDoneProgress/create`
 * while the job runs; both feed the job's one notification, and Cancel reaches all of them.
 */
export class JobRunner {
  private active: { tokens: Set<string | number>; attach(token: string | number): void } | undefined;

  constructor(
    private readonly conn: ServerConnection,
    private readonly ui: JobUi,
  ) {}

  /** True while a user-started job runs (its messages may pop up; others go to the log). */
  get busy(): boolean {
    return this.active !== undefined;
  }

  /**
   * Called for `window/workDoneProgress/create`: returns true when the token now belongs to the
   * running job, false when the caller should show it as background progress.
   */
  adoptServerToken(token: string | number): boolean {
    if (!this.active) return false;
    this.active.attach(token);
    return true;
  }

  /** Executes COMMAND with ARG under a progress notification titled TITLE; resolves to the command's result. */
  async run(command: StrataCommand, arg: object, title: string): Promise<unknown> {
    if (this.active) throw new Error('Another Strata job is still running; wait for it or cancel it.');
    const own = `strata-client-${process.pid}-${++tokenCounter}`;
    return this.ui.withProgress(title, async (sink) => {
      const subs: { dispose(): void }[] = [];
      const tokens = new Set<string | number>();
      let cancelled = false;
      const attach = (token: string | number) => {
        if (tokens.has(token)) return;
        tokens.add(token);
        if (cancelled) void this.conn.sendNotification('window/workDoneProgress/cancel', { token });
        subs.push(
          this.conn.onProgress(workDoneProgress, token, (v) => {
            if (v.kind === 'end') {
              if (v.message) sink.report(v.message, undefined);
              return;
            }
            const text = v.kind === 'begin' ? (v.message ? `${v.title ?? ''}: ${v.message}` : v.title) : v.message;
            sink.report(text, v.percentage);
          }),
        );
      };
      sink.onCancel(() => {
        cancelled = true;
        for (const token of tokens) void this.conn.sendNotification('window/workDoneProgress/cancel', { token });
      });
      this.active = { tokens, attach };
      attach(own);
      try {
        return await this.conn.sendRequest('workspace/executeCommand', {
          command,
          arguments: [arg],
          workDoneToken: own,
        });
      } finally {
        this.active = undefined;
        for (const s of subs) s.dispose();
      }
    });
  }
}

/** The generation number in a command's result, when the server returns one. */
export function generationOfResult(result: unknown): number | undefined {
  if (typeof result === 'number' && Number.isInteger(result)) return result;
  if (result && typeof result === 'object') {
    const o = result as Record<string, unknown>;
    for (const k of ['generation', 'newGeneration', 'number']) {
      const v = o[k];
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (v && typeof v === 'object' && typeof (v as { number?: unknown }).number === 'number') {
        return (v as { number: number }).number;
      }
    }
  }
  return undefined;
}

/** A one-line summary of a command's result for the notification, when it carries one. */
export function summaryOfResult(result: unknown): string | undefined {
  if (typeof result === 'string') return result;
  if (result && typeof result === 'object') {
    const o = result as Record<string, unknown>;
    for (const k of ['summary', 'message', 'diff']) if (typeof o[k] === 'string') return o[k] as string;
  }
  return undefined;
}
