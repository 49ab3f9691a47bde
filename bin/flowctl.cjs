#!/usr/bin/env node
// flowctl (cli/main.ts): the compiled build when there is one, otherwise the TypeScript through tsx.
const path = require('node:path');
const fs = require('node:fs');

const compiled = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const entry = fs.existsSync(compiled)
  ? compiled
  : (require('tsx/cjs'), path.join(__dirname, '..', 'cli', 'main.ts'));
require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
