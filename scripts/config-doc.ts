// Regenerates the reference tables in docs/CONFIGURATION.md from the configuration schemas:
//   node --import tsx scripts/config-doc.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigDoc } from '../test/unit/services/shared/config-doc.fixture.js';

const file = new URL('../docs/CONFIGURATION.md', import.meta.url);
writeFileSync(file, renderConfigDoc(readFileSync(file, 'utf8')));
