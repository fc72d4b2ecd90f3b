// Test-only extension, installed beside Strata in the e2e run. When $STRATA_E2E_DIR is set it
// checks, through the real VS Code API in the extension host, what the browser cannot see
// directly, and writes JSON files there for e2e.mjs: caps.json (the server's capabilities, once
// it runs) and driver.json (language, diagnostics, hover, completion).
const vscode = require('vscode');
const fs = require('fs');
const path = require('path');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
function text(contents) {
  return contents.map((c) => (typeof c === 'string' ? c : c.value)).join('\n');
}

class NoServer extends Error {}

async function activate() {
  const dir = process.env.STRATA_E2E_DIR;
  if (!dir) return;
  const write = (name, obj) => fs.writeFileSync(path.join(dir, name), JSON.stringify(obj, null, 2));
  const res = { steps: [] };
  try {
    const ext = vscode.extensions.getExtension('strata.strata');
    const api = await ext.activate();
    res.extensionActive = ext.isActive;
    const s = api.strata;
    const running = await until('the Strata client to run', () => s.client && s.client.isRunning(), 45000).catch(() => false);
    if (!running) {
      // The server never answered `initialize`: e2e.mjs skips what needs it and says why.
      write('caps.json', { running: false, status: s.status.text, tooltip: s.status.tooltip });
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, 'modules', 'broken.nix'));
      res.languageId = doc.languageId;
      throw new NoServer();
    }
    const caps = s.client.initializeResult.capabilities;
    write('caps.json', {
      running: true,
      serverVersion: s.serverVersion,
      serverInfo: s.client.initializeResult.serverInfo,
      commands: (caps.executeCommandProvider && caps.executeCommandProvider.commands) || [],
      hoverProvider: !!caps.hoverProvider,
      completionProvider: !!caps.completionProvider,
    });
    const root = vscode.workspace.workspaceFolders[0].uri;
    const broken = vscode.Uri.joinPath(root, 'modules', 'broken.nix');
    const doc = await vscode.workspace.openTextDocument(broken);
    res.languageId = doc.languageId;
    const diags = await until('diagnostics on broken.nix', () => {
      const d = vscode.languages.getDiagnostics(broken);
      return d.length ? d : undefined;
    }).catch((e) => (res.steps.push(String(e)), []));
    res.diagnostics = diags.map((d) => ({ message: d.message, line: d.range.start.line, severity: d.severity }));
    if (caps.completionProvider) {
      const line = doc.getText().split('\n').findIndex((l) => l.includes('greting'));
      const col = doc.lineAt(line).text.indexOf('greting') + 3;
      const list = await vscode.commands.executeCommand('vscode.executeCompletionItemProvider', broken, new vscode.Position(line, col));
      res.completion = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    }
    if (caps.hoverProvider) {
      const flake = vscode.Uri.joinPath(root, 'flake.nix');
      const fdoc = await vscode.workspace.openTextDocument(flake);
      const line = fdoc.getText().split('\n').findIndex((l) => l.includes('nixpkgs.url'));
      const col = fdoc.lineAt(line).text.indexOf('nixpkgs') + 2;
      const hovers = await vscode.commands.executeCommand('vscode.executeHoverProvider', flake, new vscode.Position(line, col));
      res.hover = hovers.map((h) => text(h.contents)).join('\n');
    }
  } catch (e) {
    if (!(e instanceof NoServer)) res.error = String((e && e.stack) || e);
  }
  write('driver.json', res);
  // Then, on e2e.mjs's signal, point strata.server.path at nothing (as a user would in Settings).
  const trigger = path.join(dir, 'break-server-path');
  await until('the break-server-path signal', () => fs.existsSync(trigger), 600000).catch(() => undefined);
  if (fs.existsSync(trigger)) {
    await vscode.workspace.getConfiguration('strata').update('server.path', fs.readFileSync(trigger, 'utf8'), vscode.ConfigurationTarget.Global);
  }
}
module.exports = { activate, deactivate() {} };
