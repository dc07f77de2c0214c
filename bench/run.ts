// `npm run bench -- NAME [args]`: runs bench/NAME.ts, whose last line of output is one JSON object.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const name = process.argv[2];
const file = name ? fileURLToPath(new URL(`./${name}.ts`, import.meta.url)) : '';
if (!name || !/^[a-z][a-z0-9-]*$/.test(name) || !existsSync(file)) {
  console.error(`usage: npm run bench -- NAME   (NAME is the file name of a program in bench/, e.g. move)`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(file);
