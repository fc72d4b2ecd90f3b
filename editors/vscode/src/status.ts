// The status bar item: the server's state and the current generation of the active configuration.
import * as vscode from 'vscode';

/** States shown in the status bar. */
export type ServerState = 'starting' | 'running' | 'stopped' | 'missing';

const ICONS: Record<ServerState, string> = {
  starting: '$(sync~spin)',
  running: '$(layers)',
  stopped: '$(error)',
  missing: '$(warning)',
};

/** One status bar item, left-aligned near the language mode. */
export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('strata.status', vscode.StatusBarAlignment.Left, 10);
  private state: ServerState = 'starting';
  private detail = '';
  private generation: { target: string; number: number } | undefined;

  constructor() {
    this.item.name = 'Strata';
    this.render();
    this.item.show();
  }

  /** Server state and a tooltip line explaining it. */
  setState(state: ServerState, detail = ''): void {
    this.state = state;
    this.detail = detail;
    this.render();
  }

  /** The current generation of TARGET (an installable). */
  setGeneration(target: string, n: number): void {
    this.generation = { target, number: n };
    this.render();
  }

  /** What the item says; read by tests through the extension's API. */
  get text(): string {
    return this.item.text;
  }

  /** The tooltip text (server state and detail); read by tests. */
  get tooltip(): string {
    return String(this.item.tooltip ?? '');
  }

  private render(): void {
    const gen = this.generation ? ` gen ${this.generation.number}` : '';
    this.item.text = `${ICONS[this.state]} Strata${this.state === 'running' ? gen : ` (${this.state})`}`;
    const lines = [`Strata server: ${this.state}${this.detail ? ` — ${this.detail}` : ''}`];
    if (this.generation) lines.push(`${this.generation.target}: generation ${this.generation.number}`);
    lines.push(this.state === 'running' ? 'Click: Show Generations' : 'Click: Restart Server');
    this.item.tooltip = lines.join('\n');
    this.item.command = this.state === 'running' ? 'strata.showGenerations' : this.state === 'missing' ? 'strata.showServerLog' : 'strata.restartServer';
    this.item.accessibilityInformation = { label: this.item.text.replace(/\$\([^)]*\)\s*/g, '') };
  }

  dispose(): void {
    this.item.dispose();
  }
}
