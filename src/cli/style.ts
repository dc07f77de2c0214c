/**
 * style decides, in one place, how the `hostfleet` command dresses its output: colour only on a
 * terminal and never with NO_COLOR (https://no-color.org), progress bars only on a terminal,
 * and the command named the way the user can type it.
 * Output that a script reads through a pipe is then plain text every time.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import Table from 'cli-table3';
import type { TableConstructorOptions } from 'cli-table3';

/** Stream is the part of a process stream the decisions look at. */
export interface Stream {
  readonly isTTY?: boolean | undefined;
}

/** Env is the part of the environment the decisions look at. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * interactive tells whether a person watches the stream: a terminal that can redraw a line
 * (TERM=dumb cannot), so progress bars and cursor movement are welcome there and nowhere else.
 */
export function interactive(stream: Stream = process.stdout, env: Env = process.env): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** colour tells whether the stream gets ANSI colours: on a terminal, unless NO_COLOR is set to anything but ''. */
export function colour(stream: Stream = process.stdout, env: Env = process.env): boolean {
  return interactive(stream, env) && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

/**
 * newTable is cli-table3's table with colours only when stdout takes them: cli-table3 colours
 * its header (red unless told otherwise) and its borders (grey) on any stream, terminal or not.
 */
export function newTable(opts: TableConstructorOptions & { head: string[] }, headColour: string = 'cyan'): Table.Table {
  return new Table({ ...opts, style: colour() ? { head: [headColour], border: ['grey'] } : { head: [], border: [] } });
}

function onPath(name: string, env: Env): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // Not in this directory: look in the next.
    }
  }
  return false;
}

/**
 * invocation is how the user runs this command from their shell: `hostfleet` when it is
 * installed on their PATH, else `npx hostfleet` (npx puts the project's bin on the PATH only
 * for the command it runs, so a command started by npx says npx too).
 */
export function invocation(env: Env = process.env, isOnPath: (name: string, env: Env) => boolean = onPath): string {
  return env.npm_command !== 'exec' && isOnPath('hostfleet', env) ? 'hostfleet' : 'npx hostfleet';
}
