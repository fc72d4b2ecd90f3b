// Pure helpers: configuration discovery in flake.nix, generation lists, version checks, and the
// package.json contributions (settings mirror DESIGN.md's `strata` section).
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { configurationsInFlake, installablesFromCommands } = require('../out/configurations.js');
const { parseGenerations, generationItems, currentGeneration } = require('../out/generations.js');
const { parseVersion, compareVersions } = require('../out/serverBinary.js');

test('configurations are found in dotted, quoted and nested forms, not in comments', () => {
  const text = `{
    outputs = { self, nixpkgs, home-manager }: {
      nixosConfigurations.host = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix ]; };
      homeConfigurations."alice@box" = home-manager.lib.homeManagerConfiguration { };
      homeConfigurations.bob.activationPackage = derivation { };
      # nixosConfigurations.commented = x;
      nixosConfigurations = {
        web = nixpkgs.lib.nixosSystem { system = "x86_64-linux"; modules = [ { a = 1; } ]; };
        "db-1" = mk { inherit x; };
        old.config.system.build.toplevel = y;
      };
    };
  }`;
  assert.deepEqual(configurationsInFlake(text).sort(), [
    'homeConfigurations."alice@box"',
    'homeConfigurations.bob',
    'nixosConfigurations."db-1"',
    'nixosConfigurations.host',
    'nixosConfigurations.old',
    'nixosConfigurations.web',
  ]);
  assert.deepEqual(configurationsInFlake('{ outputs = _: { packages.x86_64-linux.default = 1; }; }'), []);
});

test('installables come from strata.* lens commands only, once each', () => {
  assert.deepEqual(
    installablesFromCommands([
      { command: 'strata.apply', arguments: [{ installable: '/f#nixosConfigurations.a' }] },
      { command: 'strata.build', arguments: [{ installable: '/f#nixosConfigurations.a' }] },
      { command: 'other.cmd', arguments: [{ installable: '/f#x' }] },
      { command: 'strata.generations', arguments: [{ installable: '/f#homeConfigurations.b' }] },
    ]),
    ['/f#nixosConfigurations.a', '/f#homeConfigurations.b'],
  );
});

test('generation lists are normalised, newest first, with the current one marked', () => {
  const gens = parseGenerations({ current: 12, generations: [{ generation: 11, created: 1700000000 }, { generation: 12, created: '2026-11-28' }] });
  assert.deepEqual(gens, [
    { number: 12, date: '2026-11-28', current: true, path: undefined },
    { number: 11, date: '2023-11-14 22:13:20Z', current: false, path: undefined },
  ]);
  assert.equal(currentGeneration(gens).number, 12);
  assert.deepEqual(generationItems(gens).map((i) => i.label), ['$(check) Generation 12', 'Generation 11']);
  assert.deepEqual(parseGenerations([{ number: 3, date: 'x', current: true, path: '/p' }, { bogus: 1 }]), [{ number: 3, date: 'x', current: true, path: '/p' }]);
  assert.deepEqual(parseGenerations(null), []);
});

test('server versions are parsed and compared', () => {
  assert.equal(parseVersion('strata 0.1.0\n'), '0.1.0');
  assert.equal(parseVersion('strata 1.20.3-dev+abc'), '1.20.3');
  assert.equal(parseVersion('no version'), undefined);
  assert.ok(compareVersions('0.1.0', '0.1.0') === 0);
  assert.ok(compareVersions('0.0.9', '0.1.0') < 0);
  assert.ok(compareVersions('0.10.0', '0.9.9') > 0);
});

test('package.json mirrors every server setting of DESIGN.md with a description', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  const props = pkg.contributes.configuration.properties;
  const keys = ['engine', 'apply.enable', 'apply.confirm', 'apply.profiles.system', 'apply.profiles.home', 'options.homeManager',
    'options.nixos', 'diagnostics.ignored', 'diagnostics.excludedFiles', 'inlayHints.lockedRevisions', 'server.path'];
  for (const k of keys) {
    const p = props[`strata.${k}`];
    assert.ok(p, `strata.${k} is contributed`);
    assert.ok(p.description || p.markdownDescription, `strata.${k} has a description`);
  }
  assert.deepEqual(props['strata.engine'].enum, ['auto', 'nix', 'native']);
  assert.deepEqual(pkg.activationEvents.sort(), ['onLanguage:nix', 'workspaceContains:**/flake.nix']);
  const lang = pkg.contributes.languages.find((l) => l.id === 'nix');
  assert.deepEqual(lang.extensions, ['.nix']);
  const langConf = JSON.parse(fs.readFileSync(path.join(__dirname, '..', lang.configuration), 'utf8'));
  assert.equal(langConf.comments.lineComment, '#');
  const grammar = pkg.contributes.grammars.find((g) => g.language === 'nix');
  assert.equal(JSON.parse(fs.readFileSync(path.join(__dirname, '..', grammar.path), 'utf8')).scopeName, 'source.nix');
  const titles = pkg.contributes.commands.map((c) => c.title).sort();
  assert.deepEqual(titles, ['Apply Configuration', 'Build Configuration', 'Restart Server', 'Roll Back', 'Show Build Log', 'Show Generations', 'Show Server Log']);
});
