/**
 * document reads the YAML and JSON files users hand to hostfleet (configurations, scenarios,
 * placement submissions). A file that is missing, unreadable or not valid YAML or JSON fails
 * with an error naming the file and what it should hold, never with a bare ENOENT or a parser's
 * stack; checking the content is the reader's job.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { unreadableFile } from '../../core/errors.js';

/** DocumentAbout says what a document is for, in the words its errors use. */
export interface DocumentAbout {
  /** what the file is, such as 'configuration file'. */
  readonly what: string;
  /** expected is what the file should hold, such as 'a YAML or JSON mapping of settings (docs/CONFIGURATION.md)'. */
  readonly expected: string;
  /** code: E_CONFIG for a process's configuration, E_VALIDATION for other input. */
  readonly code: 'E_CONFIG' | 'E_VALIDATION';
}

/** readDocument reads file as JSON when its name ends in .json, else as YAML; an empty file reads as undefined. */
export function readDocument(file: string, about: DocumentAbout): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw unreadableFile(about.code, { what: about.what, file, expected: about.expected, cause: e });
  }
  const format = file.endsWith('.json') ? 'JSON' : 'YAML';
  try {
    return format === 'JSON' ? JSON.parse(text) : (YAML.parse(text) ?? undefined);
  } catch (e) {
    throw unreadableFile(about.code, {
      what: about.what,
      file,
      reason: `not valid ${format}: ${(e as Error).message}`,
      expected: about.expected,
      cause: e,
    });
  }
}
