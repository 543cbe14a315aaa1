// `npm run readme`: rewrites the generated support table in README.md.
import fs from 'node:fs';
import { withCurrentTable } from '../src/docs/support-table.js';

const file = new URL('../README.md', import.meta.url);
fs.writeFileSync(file, withCurrentTable(fs.readFileSync(file, 'utf8')));
console.log('README.md support table updated');
