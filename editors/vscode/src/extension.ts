// Entry point: starts `strata lsp` through vscode-languageclient and adds the palette commands,
// the build log, the status bar item and progress notifications for Apply / Build / Roll Back.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { configurationsInFlake, installable, installablesFromCommands } from './configurations';
import { currentGeneration, generationItems, parseGenerations } from './generations';
import { BuildArgs, JobRunner, ServerConnection, StrataCommand, generationOfResult, summaryOfResult, workDoneProgress } from './jobs';
import { INSTALL_HINT, checkVersion, findServer } from './serverBinary';
import { StatusItem } from './status';

/** Commands the server must advertise for Apply and friends (issue 9). */
const SERVER_COMMANDS: StrataCommand[] = ['strata.apply', 'strata.build', 'strata.rollback', 'strata.generations'];
const LAST_CONFIGURATION_KEY = 'strata.lastConfiguration';
/** LSP MessageType.Log: build log lines (issue 9) are sent with it. */
const LOG_TYPE = 4;

/** Everything the extension holds while active; one per window. */
class Strata implements vscode.Disposable {
  client: LanguageClient | undefined;
  readonly buildLog = vscode.window.createOutputChannel('Strata Build Log');
  readonly serverLog = vscode.window.createOutputChannel('Strata Server');
  readonly status = new StatusItem();
  jobs: JobRunner | undefined;
  serverVersion: string | undefined;
  private restartsInWindow: number[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {}

  dispose(): void {
    this.buildLog.dispose();
    this.serverLog.dispose();
    this.status.dispose();
  }

  /** The server's command list from its `initialize` answer. */
  serverCommands(): string[] {
    return this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  }

  async start(): Promise<void> {
    const config = vscode.workspace.getConfiguration('strata');
    const lookup = findServer(config.get<string>('server.path'), process.env.PATH, process.env.HOME);
    if (lookup.kind === 'missing') {
      this.status.setState('missing', lookup.message);
      this.serverLog.appendLine(lookup.message);
      void this.offerFix(`${lookup.message} ${INSTALL_HINT}`);
      return;
    }
    const version = await checkVersion(lookup.path);
    if (version.kind !== 'ok') {
      this.status.setState('missing', version.message);
      this.serverLog.appendLine(version.message);
      void this.offerFix(`${version.message} ${INSTALL_HINT}`);
      return;
    }
    this.serverVersion = version.version;
    this.serverLog.appendLine(`Starting ${lookup.path} lsp (version ${version.version}, found via ${lookup.source}).`);

    // No `transport`: the client would append `--stdio`; stdio is the default anyway.
    const serverOptions: ServerOptions = { command: lookup.path, args: ['lsp'] };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'nix' },
        { scheme: 'untitled', language: 'nix' },
      ],
      synchronize: {
        configurationSection: 'strata',
        fileEvents: vscode.workspace.createFileSystemWatcher('**/flake.lock'),
      },
      initializationOptions: serverSettings(),
      outputChannel: this.serverLog,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          const now = Date.now();
          this.restartsInWindow = this.restartsInWindow.filter((t) => now - t < 180000);
          this.restartsInWindow.push(now);
          if (this.restartsInWindow.length > 4) {
            this.serverLog.appendLine('The server stopped 5 times in 3 minutes; not restarting. Use "Strata: Restart Server".');
            this.status.setState('stopped', 'The server keeps crashing: see Strata: Show Server Log');
            return { action: CloseAction.DoNotRestart, handled: true };
          }
          return { action: CloseAction.Restart, handled: true };
        },
      },
      middleware: {
        // Server code lenses and code actions name `strata.apply` etc.; route them through our
        // commands so that they get the notification, build log and status bar too.
        provideCodeLenses: async (doc, token, next) => {
          const lenses = await next(doc, token);
          for (const l of lenses ?? []) if (l.command) l.command = routedCommand(l.command);
          return lenses;
        },
        provideCodeActions: async (doc, range, ctx, token, next) => {
          const actions = await next(doc, range, ctx, token);
          for (const a of actions ?? []) {
            if (a instanceof vscode.CodeAction) {
              if (a.command) a.command = routedCommand(a.command);
            }
          }
          return actions;
        },
      },
    };

    const client = new LanguageClient('strata', 'Strata', serverOptions, clientOptions);
    this.client = client;
    this.context.subscriptions.push(
      client.onDidChangeState((e) => {
        if (e.newState === State.Running) this.status.setState('running', `strata ${this.serverVersion}`);
        else if (e.newState === State.Starting) this.status.setState('starting');
        else this.status.setState('stopped', 'The server is not running: click to restart');
      }),
    );
    const jobs = new JobRunner(client as unknown as ServerConnection, { withProgress: notificationProgress });
    this.jobs = jobs;
    try {
      await client.start();
    } catch (e) {
      this.serverLog.appendLine(`The server did not start: ${errorText(e)}`);
      this.status.setState('stopped', 'The server did not start: see Strata: Show Server Log');
      return;
    }
    this.status.setState('running', `strata ${this.serverVersion}`);
    this.routeServerMessages(client, jobs);
    void this.refreshGeneration();
  }

  /** Log lines to the build log, other messages to the server log unless the user started a job. */
  private routeServerMessages(client: LanguageClient, jobs: JobRunner): void {
    client.onNotification('window/logMessage', (p: { type: number; message: string }) => {
      if (p.type === LOG_TYPE) this.buildLog.appendLine(p.message);
      else this.serverLog.appendLine(`[${['', 'Error', 'Warn', 'Info', 'Log', 'Debug'][p.type] ?? p.type}] ${p.message}`);
    });
    client.onNotification('window/showMessage', (p: { type: number; message: string }) => {
      this.serverLog.appendLine(`[message] ${p.message}`);
      if (!jobs.busy) return;
      if (p.type === 1) void vscode.window.showErrorMessage(p.message, 'Show Build Log').then((a) => a && this.buildLog.show(true));
      else if (p.type === 2) void vscode.window.showWarningMessage(p.message);
      else void vscode.window.showInformationMessage(p.message);
    });
    client.onRequest('window/workDoneProgress/create', (p: { token: string | number }) => {
      if (!jobs.adoptServerToken(p.token)) backgroundProgress(client, p.token);
      return null;
    });
  }

  private async offerFix(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Retry');
    if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'strata.server.path');
    else if (choice === 'Retry') await this.restart();
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.jobs = undefined;
    if (c) {
      try {
        await c.stop(5000);
      } catch (e) {
        this.serverLog.appendLine(`Stopping the server: ${errorText(e)}`);
      }
      await c.dispose().catch(() => undefined);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    this.restartsInWindow = [];
    await this.start();
  }

  /** The running client that advertises COMMAND, or undefined after telling the user why not. */
  private readyFor(command: StrataCommand): { client: LanguageClient; jobs: JobRunner } | undefined {
    if (!this.client || !this.jobs || !this.client.isRunning()) {
      void vscode.window.showErrorMessage('The Strata server is not running.', 'Restart Server', 'Show Server Log').then((a) => {
        if (a === 'Restart Server') void this.restart();
        else if (a === 'Show Server Log') this.serverLog.show(true);
      });
      return undefined;
    }
    if (!this.serverCommands().includes(command)) {
      void vscode.window.showErrorMessage(
        `This Strata server (${this.serverVersion ?? 'unknown version'}) does not offer \`${command}\` yet. Update the server.`,
      );
      return undefined;
    }
    return { client: this.client, jobs: this.jobs };
  }

  /** Configurations in the workspace: server code lenses first, then a scan of each flake.nix. */
  async configurations(): Promise<string[]> {
    const out: string[] = [];
    const flakes = await vscode.workspace.findFiles('**/flake.nix', '**/{node_modules,.git,result}/**', 20);
    for (const uri of flakes) {
      const dir = path.dirname(uri.fsPath);
      try {
        const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
        for (const i of installablesFromCommands(lenses.map((l) => unrouted(l.command)))) if (!out.includes(i)) out.push(i);
      } catch {
        // No lens provider yet: the scan below still finds them.
      }
      const text = (await vscode.workspace.openTextDocument(uri)).getText();
      for (const attr of configurationsInFlake(text)) {
        const i = installable(dir, attr);
        if (!out.includes(i)) out.push(i);
      }
    }
    return out;
  }

  /** The configuration to act on: ARG when given, else the only one, else a quick pick (last used first). */
  async chooseConfiguration(arg: unknown, purpose: string): Promise<string | undefined> {
    const given = (arg as { installable?: unknown } | undefined)?.installable;
    if (typeof given === 'string') return given;
    const last = this.context.workspaceState.get<string>(LAST_CONFIGURATION_KEY);
    const all = await this.configurations();
    let chosen: string | undefined;
    if (all.length === 1) chosen = all[0];
    else if (all.length > 1) {
      const ordered = last && all.includes(last) ? [last, ...all.filter((c) => c !== last)] : all;
      const pickedItem = await vscode.window.showQuickPick(
        ordered.map((c) => ({ label: c.split('#')[1] ?? c, description: c.split('#')[0], installable: c })),
        { title: `Strata: ${purpose}`, placeHolder: 'Configuration' },
      );
      chosen = pickedItem?.installable;
    } else {
      const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '.';
      chosen = await vscode.window.showInputBox({
        title: `Strata: ${purpose}`,
        prompt: 'No configuration found in this workspace: give an installable (FLAKEDIR#ATTR)',
        value: `${root}#`,
      });
    }
    if (chosen) await this.context.workspaceState.update(LAST_CONFIGURATION_KEY, chosen);
    return chosen || undefined;
  }

  async applyOrBuild(command: 'strata.apply' | 'strata.build', arg: unknown): Promise<void> {
    const ready = this.readyFor(command);
    if (!ready) return;
    const target = await this.chooseConfiguration(arg, command === 'strata.apply' ? 'Apply Configuration' : 'Build Configuration');
    if (!target) return;
    const args: BuildArgs = { ...(isObject(arg) ? (arg as object) : {}), installable: target };
    const verb = command === 'strata.apply' ? 'Applying' : 'Building';
    this.buildLog.appendLine(`── ${verb} ${target} (${new Date().toISOString()})`);
    try {
      const result = await ready.jobs.run(command, args, `${verb} ${target.split('#')[1] ?? target}`);
      const gen = generationOfResult(result);
      const summary = summaryOfResult(result);
      this.buildLog.appendLine(`── done${gen !== undefined ? `: generation ${gen}` : ''}${summary ? ` — ${summary}` : ''}`);
      if (command === 'strata.apply') {
        if (gen !== undefined) this.status.setGeneration(target, gen);
        await this.refreshGeneration(target);
      }
      if (summary && gen === undefined) void vscode.window.showInformationMessage(summary);
    } catch (e) {
      this.failed(`${verb} ${target} failed`, e);
    }
  }

  async rollBack(arg: unknown): Promise<void> {
    const ready = this.readyFor('strata.rollback');
    if (!ready) return;
    const target = await this.chooseConfiguration(arg, 'Roll Back');
    if (!target) return;
    const to = (arg as { to?: unknown } | undefined)?.to;
    await this.switchTo(ready.jobs, target, typeof to === 'number' ? to : undefined);
  }

  private async switchTo(jobs: JobRunner, target: string, to: number | undefined): Promise<void> {
    this.buildLog.appendLine(`── Rolling back ${target}${to !== undefined ? ` to generation ${to}` : ''}`);
    try {
      const result = await jobs.run('strata.rollback', { installable: target, ...(to !== undefined ? { to } : {}) }, 'Rolling back');
      const gen = generationOfResult(result) ?? to;
      if (gen !== undefined) this.status.setGeneration(target, gen);
      await this.refreshGeneration(target);
    } catch (e) {
      this.failed(`Roll back of ${target} failed`, e);
    }
  }

  async showGenerations(arg: unknown): Promise<void> {
    const ready = this.readyFor('strata.generations');
    if (!ready) return;
    const target = await this.chooseConfiguration(arg, 'Show Generations');
    if (!target) return;
    let gens;
    try {
      gens = parseGenerations(await ready.client.sendRequest('workspace/executeCommand', { command: 'strata.generations', arguments: [{ installable: target }] }));
    } catch (e) {
      this.failed('Listing generations failed', e);
      return;
    }
    if (gens.length === 0) {
      void vscode.window.showInformationMessage(`${target} has no generations yet: apply it first.`);
      return;
    }
    const cur = currentGeneration(gens);
    if (cur) this.status.setGeneration(target, cur.number);
    const picked = await vscode.window.showQuickPick(generationItems(gens), {
      title: `Generations of ${target.split('#')[1] ?? target}`,
      placeHolder: 'Choose a generation to switch to',
    });
    if (!picked) return;
    if (cur && picked.generation === cur.number) {
      void vscode.window.showInformationMessage(`Generation ${picked.generation} is already the current one.`);
      return;
    }
    const ok = await vscode.window.showWarningMessage(`Switch ${target.split('#')[1] ?? target} to generation ${picked.generation}?`, { modal: true }, 'Switch');
    if (ok !== 'Switch') return;
    await this.switchTo(ready.jobs, target, picked.generation);
  }

  /** Updates the status bar with the current generation of TARGET (or of the last used configuration). */
  async refreshGeneration(target?: string): Promise<void> {
    const client = this.client;
    if (!client || !this.serverCommands().includes('strata.generations')) return;
    const t = target ?? this.context.workspaceState.get<string>(LAST_CONFIGURATION_KEY) ?? (await this.configurations())[0];
    if (!t) return;
    try {
      const gens = parseGenerations(await client.sendRequest('workspace/executeCommand', { command: 'strata.generations', arguments: [{ installable: t }] }));
      const cur = currentGeneration(gens);
      if (cur) this.status.setGeneration(t, cur.number);
    } catch (e) {
      this.serverLog.appendLine(`strata.generations for ${t}: ${errorText(e)}`);
    }
  }

  private failed(what: string, e: unknown): void {
    const text = errorText(e);
    this.buildLog.appendLine(`── ${what}: ${text}`);
    void vscode.window.showErrorMessage(`${what}: ${text}`, 'Show Build Log').then((a) => a && this.buildLog.show(true));
  }
}

/** Client-side commands for the server's command ids, so lenses and actions get the full UI. */
const ROUTES: Record<string, string> = {
  'strata.apply': 'strata.applyConfiguration',
  'strata.build': 'strata.buildConfiguration',
  'strata.rollback': 'strata.rollBack',
  'strata.generations': 'strata.showGenerations',
};
function routedCommand(c: vscode.Command): vscode.Command {
  const to = ROUTES[c.command];
  return to ? { ...c, command: to } : c;
}
function unrouted(c: vscode.Command | undefined): { command?: string; arguments?: unknown[] } {
  if (!c) return {};
  const back = Object.entries(ROUTES).find(([, v]) => v === c.command)?.[0];
  return { command: back ?? c.command, arguments: c.arguments };
}

/** The `strata` settings section as a plain object (initializationOptions). */
export function serverSettings(): unknown {
  return JSON.parse(JSON.stringify(vscode.workspace.getConfiguration().get('strata') ?? {}));
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function notificationProgress<T>(title: string, task: (sink: import('./jobs').ProgressSink) => Promise<T>): Promise<T> {
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      let last = 0;
      return task({
        report(message, percentage) {
          const inc = percentage !== undefined && percentage > last ? percentage - last : undefined;
          if (percentage !== undefined && percentage > last) last = percentage;
          progress.report({ message, increment: inc });
        },
        onCancel(handler) {
          token.onCancellationRequested(handler);
        },
      });
    }),
  );
}

/** Progress the server started on its own (indexing, evaluation): quietly in the status bar. */
function backgroundProgress(client: LanguageClient, token: string | number): void {
  let finish: () => void = () => undefined;
  let shown = false;
  let report: ((m: string | undefined) => void) | undefined;
  const done = new Promise<void>((r) => (finish = r));
  const sub = client.onProgress(workDoneProgress, token, (v) => {
    if (v.kind === 'begin' && !shown) {
      shown = true;
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: v.title }, async (p) => {
        report = (m) => p.report({ message: m });
        if (v.message) report(v.message);
        await done;
      });
    } else if (v.kind === 'report') report?.(v.message);
    else if (v.kind === 'end') {
      finish();
      sub.dispose();
    }
  });
}

let strata: Strata | undefined;

/** Called by VS Code on `onLanguage:nix` or a workspace with a flake.nix. */
export async function activate(context: vscode.ExtensionContext): Promise<{ strata: Strata }> {
  const s = new Strata(context);
  strata = s;
  context.subscriptions.push(
    s,
    vscode.commands.registerCommand('strata.applyConfiguration', (arg?: unknown) => s.applyOrBuild('strata.apply', arg)),
    vscode.commands.registerCommand('strata.buildConfiguration', (arg?: unknown) => s.applyOrBuild('strata.build', arg)),
    vscode.commands.registerCommand('strata.rollBack', (arg?: unknown) => s.rollBack(arg)),
    vscode.commands.registerCommand('strata.showGenerations', (arg?: unknown) => s.showGenerations(arg)),
    vscode.commands.registerCommand('strata.restartServer', () => s.restart()),
    vscode.commands.registerCommand('strata.showBuildLog', () => s.buildLog.show(true)),
    vscode.commands.registerCommand('strata.showServerLog', () => s.serverLog.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // Other settings reach the running server through workspace/didChangeConfiguration.
      if (e.affectsConfiguration('strata.server.path')) void s.restart();
    }),
  );
  await s.start();
  return { strata: s };
}

/** Stops the server when VS Code unloads the extension. */
export async function deactivate(): Promise<void> {
  const s = strata;
  strata = undefined;
  await s?.stop();
}
