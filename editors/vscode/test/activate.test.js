// activate() with a mocked `vscode` and `vscode-languageclient/node` (Module._load hook; Node 20
// has no mock.module): server lookup and version check, client options, commands, status bar,
// restart on a server.path change, and Apply routed to `workspace/executeCommand`.
const { test, beforeEach } = require('node:test');
const assert = require('node:assert');
const Module = require('node:module');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

let world;
function freshWorld(settings) {
  world = {
    settings,
    commands: new Map(),
    clients: [],
    errors: [],
    infos: [],
    warnings: [],
    statusItems: [],
    configListeners: [],
    executed: [],
    quickPicks: [],
    workspaceState: new Map(),
    flakes: [],
  };
}

function getPath(obj, key) {
  return key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

const fakeVscode = {
  StatusBarAlignment: { Left: 1, Right: 2 },
  ProgressLocation: { Notification: 15, Window: 10 },
  CodeAction: class {},
  window: {
    createOutputChannel: (name) => ({ name, lines: [], appendLine(l) { this.lines.push(l); }, show() { this.shown = true; }, dispose() {} }),
    createStatusBarItem: (id) => {
      const item = { id, text: '', show() { this.visible = true; }, dispose() {} };
      world.statusItems.push(item);
      return item;
    },
    showErrorMessage: (msg, ...items) => { world.errors.push({ msg, items }); return Promise.resolve(undefined); },
    showWarningMessage: (msg, ...items) => { world.warnings.push({ msg, items }); return Promise.resolve(world.answerWarning); },
    showInformationMessage: (msg, ...items) => { world.infos.push({ msg, items }); return Promise.resolve(undefined); },
    showQuickPick: async (items, opts) => { world.quickPicks.push({ items, opts }); return world.pick ? world.pick(items) : undefined; },
    showInputBox: async () => undefined,
    withProgress: async (opts, task) => {
      world.progress = opts;
      return task({ report() {} }, { onCancellationRequested() {} });
    },
  },
  workspace: {
    getConfiguration: (section) => ({
      get: (key) => (section ? getPath(world.settings, `${section}.${key}`) : getPath(world.settings, key)),
    }),
    createFileSystemWatcher: (glob) => ({ glob, dispose() {} }),
    onDidChangeConfiguration: (fn) => { world.configListeners.push(fn); return { dispose() {} }; },
    findFiles: async () => world.flakes.map((f) => ({ fsPath: f.path })),
    openTextDocument: async (uri) => ({ getText: () => world.flakes.find((f) => f.path === uri.fsPath).text }),
    workspaceFolders: [{ uri: { fsPath: '/w' } }],
  },
  commands: {
    registerCommand: (id, fn) => { world.commands.set(id, fn); return { dispose() {} }; },
    executeCommand: async (id, ...args) => { world.executed.push([id, ...args]); return undefined; },
  },
};

class FakeClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions, requests: [], stopped: false, running: false });
    this.initializeResult = { capabilities: { executeCommandProvider: { commands: world.serverCommands || [] } } };
    world.clients.push(this);
  }
  onDidChangeState() { return { dispose() {} }; }
  async start() { this.running = true; }
  isRunning() { return this.running; }
  async stop() { this.stopped = true; this.running = false; }
  async dispose() {}
  onNotification() { return { dispose() {} }; }
  onRequest() { return { dispose() {} }; }
  onProgress() { return { dispose() {} }; }
  async sendNotification() {}
  async sendRequest(method, params) {
    this.requests.push([method, params]);
    if (params.command === 'strata.apply') return { generation: 5 };
    if (params.command === 'strata.generations') return [{ number: 5, date: 'd', current: true }, { number: 4, date: 'c' }];
    return null;
  }
}
const fakeLc = {
  LanguageClient: FakeClient,
  State: { Stopped: 1, Running: 2, Starting: 3 },
  CloseAction: { DoNotRestart: 1, Restart: 2 },
  ErrorAction: { Continue: 1, Shutdown: 2 },
  RevealOutputChannelOn: { Never: 4 },
};
const origLoad = Module._load;
Module._load = function (req, ...rest) {
  if (req === 'vscode') return fakeVscode;
  if (req === 'vscode-languageclient/node') return fakeLc;
  return origLoad.call(this, req, ...rest);
};
const ext = require('../out/extension.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-activate-'));
function fakeBinary(name, versionLine) {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, `#!/bin/sh\necho '${versionLine}'\n`, { mode: 0o755 });
  return p;
}
const good = fakeBinary('strata-good', 'strata 0.1.0');
const old = fakeBinary('strata-old', 'strata 0.0.3');
const ctx = () => ({
  subscriptions: [],
  extensionPath: '/ext',
  workspaceState: { get: (k) => world.workspaceState.get(k), update: async (k, v) => world.workspaceState.set(k, v) },
});

beforeEach(async () => {
  await ext.deactivate();
});

test('starts `strata lsp` from strata.server.path with the strata settings and no --stdio', async () => {
  freshWorld({ strata: { server: { path: good }, engine: 'native', apply: { enable: true, profiles: { home: '/tmp/p' } } } });
  await ext.activate(ctx());
  assert.equal(world.clients.length, 1);
  const c = world.clients[0];
  assert.deepEqual(c.serverOptions, { command: good, args: ['lsp'] });
  assert.deepEqual(c.clientOptions.documentSelector, [{ scheme: 'file', language: 'nix' }, { scheme: 'untitled', language: 'nix' }]);
  assert.equal(c.clientOptions.synchronize.configurationSection, 'strata');
  assert.equal(c.clientOptions.initializationOptions.engine, 'native');
  assert.equal(c.clientOptions.initializationOptions.apply.profiles.home, '/tmp/p');
  assert.equal(c.clientOptions.revealOutputChannelOn, fakeLc.RevealOutputChannelOn.Never);
  assert.ok(c.running);
  for (const id of ['strata.applyConfiguration', 'strata.buildConfiguration', 'strata.rollBack', 'strata.showGenerations', 'strata.restartServer', 'strata.showBuildLog', 'strata.showServerLog']) {
    assert.ok(world.commands.has(id), id);
  }
  assert.equal(world.errors.length, 0);
  await ext.deactivate();
  assert.ok(c.stopped);
});

test('finds strata on PATH when the setting is empty', async () => {
  freshWorld({ strata: { server: { path: '' } } });
  const dir = fs.mkdtempSync(path.join(tmp, 'bin-'));
  fs.copyFileSync(good, path.join(dir, 'strata'));
  fs.chmodSync(path.join(dir, 'strata'), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved}`;
  try {
    await ext.activate(ctx());
  } finally {
    process.env.PATH = saved;
  }
  assert.equal(world.clients[0].serverOptions.command, path.join(dir, 'strata'));
});

test('a missing server gives one notification with the fix, and no client', async () => {
  freshWorld({ strata: { server: { path: path.join(tmp, 'nope') } } });
  await ext.activate(ctx());
  assert.equal(world.clients.length, 0);
  assert.equal(world.errors.length, 1);
  assert.match(world.errors[0].msg, /not an executable file/);
  assert.match(world.errors[0].msg, /cargo install --locked --path server/);
  assert.deepEqual(world.errors[0].items, ['Open Settings', 'Retry']);
  assert.match(world.statusItems[0].text, /Strata \(missing\)/);
});

test('a too old server is refused with its version in the message', async () => {
  freshWorld({ strata: { server: { path: old } } });
  await ext.activate(ctx());
  assert.equal(world.clients.length, 0);
  assert.match(world.errors[0].msg, /version 0\.0\.3; this extension needs 0\.1\.0 or newer/);
});

test('changing strata.server.path restarts the server; other settings do not', async () => {
  freshWorld({ strata: { server: { path: good } } });
  await ext.activate(ctx());
  for (const l of world.configListeners) l({ affectsConfiguration: (s) => s === 'strata.engine' || s === 'strata' });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(world.clients.length, 1);
  for (const l of world.configListeners) l({ affectsConfiguration: (s) => s.startsWith('strata') });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(world.clients.length, 2);
  assert.ok(world.clients[0].stopped);
});

test('Apply is refused with a clear message when the server lacks strata.apply', async () => {
  freshWorld({ strata: { server: { path: good } } });
  world.serverCommands = [];
  await ext.activate(ctx());
  await world.commands.get('strata.applyConfiguration')();
  assert.match(world.errors[0].msg, /does not offer `strata.apply`/);
  assert.equal(world.clients[0].requests.length, 0);
});

test('Apply picks the flake configuration, runs strata.apply and shows the generation', async () => {
  freshWorld({ strata: { server: { path: good } } });
  world.serverCommands = ['strata.apply', 'strata.build', 'strata.rollback', 'strata.generations'];
  world.flakes = [{ path: '/w/flake.nix', text: '{ outputs = { self }: { homeConfigurations.alice = 1; nixosConfigurations = { box = 2; }; }; }' }];
  world.pick = (items) => items.find((i) => i.label === 'homeConfigurations.alice');
  const api = await ext.activate(ctx());
  await world.commands.get('strata.applyConfiguration')();
  const client = world.clients[0];
  const apply = client.requests.find(([, p]) => p.command === 'strata.apply');
  assert.deepEqual(apply[1].arguments, [{ installable: '/w#homeConfigurations.alice' }]);
  assert.match(apply[1].workDoneToken, /^strata-client-/);
  assert.deepEqual(world.progress, { location: 15, title: 'Applying homeConfigurations.alice', cancellable: true });
  assert.match(world.statusItems[0].text, /Strata gen 5/);
  assert.equal(world.workspaceState.get('strata.lastConfiguration'), '/w#homeConfigurations.alice');
  assert.ok(api.strata.buildLog.lines.some((l) => l.includes('generation 5')));
});

test('Show Generations lists them and switches after confirmation only', async () => {
  freshWorld({ strata: { server: { path: good } } });
  world.serverCommands = ['strata.apply', 'strata.build', 'strata.rollback', 'strata.generations'];
  world.flakes = [{ path: '/w/flake.nix', text: '{ outputs = _: { homeConfigurations.alice = 1; }; }' }];
  world.pick = (items) => items.find((i) => i.generation === 4);
  await ext.activate(ctx());
  world.answerWarning = undefined; // the user dismisses the confirmation
  await world.commands.get('strata.showGenerations')();
  const items = world.quickPicks[0].items;
  assert.deepEqual(items.map((i) => [i.label, i.description]), [['$(check) Generation 5', 'd  (current)'], ['Generation 4', 'c']]);
  assert.match(world.warnings[0].msg, /Switch homeConfigurations.alice to generation 4\?/);
  assert.ok(!world.clients[0].requests.some(([, p]) => p.command === 'strata.rollback'));
  world.answerWarning = 'Switch';
  await world.commands.get('strata.showGenerations')();
  const rb = world.clients[0].requests.find(([, p]) => p.command === 'strata.rollback');
  assert.deepEqual(rb[1].arguments, [{ installable: '/w#homeConfigurations.alice', to: 4 }]);
});
