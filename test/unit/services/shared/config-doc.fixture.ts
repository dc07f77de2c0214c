// Shared by scripts/config-doc.ts and the test that keeps docs/CONFIGURATION.md true.
import { configReference } from '../../../../src/services/shared/config-doc.js';
import { MANAGER_ENV, ManagerConfigSchema } from '../../../../src/services/manager/config.js';

const BEGIN = '<!-- manager-config:begin -->';
const END = '<!-- manager-config:end -->';

/** renderConfigDoc replaces the generated section of the document with the current table. */
export function renderConfigDoc(doc: string): string {
  const i = doc.indexOf(BEGIN);
  const j = doc.indexOf(END);
  if (i < 0 || j < i) throw new Error(`docs/CONFIGURATION.md lacks the ${BEGIN} … ${END} markers`);
  return (
    doc.slice(0, i + BEGIN.length) + '\n' + configReference(ManagerConfigSchema, MANAGER_ENV) + '\n' + doc.slice(j)
  );
}
