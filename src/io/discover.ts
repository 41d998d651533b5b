/**
 * Discovery: command-line paths → data files in a fixed order. Listings are sorted by code point
 * of the relative path, so the order never depends on the file system (upstream fault 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { SamebatchError } from '../errors.js';
import { compareCodePoints, dirMarksNoInBatchNeg, fileMarksNoInBatchNeg, isDataFileName } from '../core/names.js';
import type { DataFile, Discovery, PassedOver } from '../types.js';

export interface DiscoverOptions {
  recursive: boolean;
}

/** The argument as people will see it: forward slashes, no trailing slash. */
function displayArg(arg: string): string {
  const s = arg.split(path.sep).join('/');
  const trimmed = s.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function joinDisplay(dir: string, rel: string): string {
  if (rel === '') return dir;
  return dir === '/' ? `/${rel}` : `${dir}/${rel}`;
}

function dirOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

function listDataFiles(absDir: string, recursive: boolean, shownDir: string): string[] {
  // Every entry, not only files: a data-file name that is a broken link must be named, not
  // silently passed over.
  const entries = fg.sync(recursive ? '**/*' : '*', {
    cwd: absDir,
    onlyFiles: false,
    markDirectories: true,
    dot: false,
    followSymbolicLinks: true,
    suppressErrors: false,
  });
  const out: string[] = [];
  for (const rel of entries) {
    if (rel.endsWith('/') || !isDataFileName(baseOf(rel))) continue;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path.join(absDir, ...rel.split('/')));
    } catch (err) {
      const shown = joinDisplay(shownDir, rel);
      throw new SamebatchError('E_PATH_MISSING', `${shown}: data file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}; a broken symbolic link?)`, {
        location: { file: shown },
      });
    }
    if (stat.isFile()) out.push(rel);
    else if (!stat.isDirectory()) {
      const shown = joinDisplay(shownDir, rel);
      throw new SamebatchError('E_PATH_KIND', `${shown}: has a data-file name but is not a regular file (a pipe, socket or device)`, { location: { file: shown } });
    }
  }
  return out;
}

/** Subdirectories (first level) that hold data files somewhere below them. */
function subdirsWithData(absDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  const names = fg.sync('*/**/*', { cwd: absDir, onlyFiles: true, dot: false, followSymbolicLinks: true, suppressErrors: true });
  for (const rel of names.filter((r) => isDataFileName(baseOf(r)))) {
    const i = rel.indexOf('/');
    if (i < 0) continue;
    const sub = rel.slice(0, i);
    counts.set(sub, (counts.get(sub) ?? 0) + 1);
  }
  return counts;
}

/**
 * Under --recursive, a directory link that points back at one of its own ancestors would list the
 * same files again and again: name the loop instead.
 */
function checkSymlinkLoops(absDir: string, shownArg: string, relDirs: Iterable<string>): void {
  const real = new Map<string, string>();
  const realOf = (rel: string): string => {
    let r = real.get(rel);
    if (r === undefined) {
      r = fs.realpathSync(rel === '' ? absDir : path.join(absDir, ...rel.split('/')));
      real.set(rel, r);
    }
    return r;
  };
  for (const relDir of relDirs) {
    if (relDir === '') continue;
    const parts = relDir.split('/');
    const seen = new Map<string, string>([[realOf(''), '']]);
    for (let k = 1; k <= parts.length; k++) {
      const prefix = parts.slice(0, k).join('/');
      const r = realOf(prefix);
      const earlier = seen.get(r);
      if (earlier !== undefined) {
        throw new SamebatchError(
          'E_SYMLINK_LOOP',
          `${joinDisplay(shownArg, prefix)}: symbolic link loop: it leads back to ${joinDisplay(shownArg, earlier)}; remove the link or give the directories as separate arguments`,
          { location: { file: joinDisplay(shownArg, prefix) } },
        );
      }
      seen.set(r, prefix);
    }
  }
}

/** Orders files directory by directory (root first, directories by code point), then by name. */
function compareByDirThenName(a: string, b: string): number {
  return compareCodePoints(dirOf(a), dirOf(b)) || compareCodePoints(baseOf(a), baseOf(b));
}

export function discover(args: readonly string[], options: DiscoverOptions): Discovery {
  if (args.length === 0) throw new SamebatchError('E_USAGE', 'no input paths: give at least one data file or directory');
  const files: DataFile[] = [];
  const passedOver: PassedOver[] = [];
  const directories: Discovery['directories'] = [];
  const seenReal = new Map<string, string>();
  const usedIds = new Map<string, number>();

  const usedNames = new Set<string>();
  const uniqueBase = (base: string): string => {
    // `~N` until the name is free: a directory literally called "data~2" must not collide.
    let n = usedIds.get(base) ?? 1;
    let name = n === 1 ? base : `${base}~${n}`;
    while (usedNames.has(name)) {
      n++;
      name = `${base}~${n}`;
    }
    usedIds.set(base, n);
    usedNames.add(name);
    return name;
  };

  const claim = (absPath: string, shown: string): void => {
    // Device and inode: the same file reached by another path, a symbolic or a hard link.
    const st = fs.statSync(absPath);
    const real = `${st.dev}:${st.ino}`;
    const earlier = seenReal.get(real);
    if (earlier !== undefined) {
      throw new SamebatchError(
        'E_INPUT_TWICE',
        `${shown}: this data file is already an input (as ${earlier}); each data file may be read once, or its examples would appear twice per epoch`,
        { location: { file: shown } },
      );
    }
    seenReal.set(real, shown);
  };

  args.forEach((arg, argIndex) => {
    const absArg = path.resolve(arg);
    const shownArg = displayArg(arg);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(absArg);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new SamebatchError('E_PATH_MISSING', `${shownArg}: input path does not exist or cannot be read (${code ?? 'error'})`, {
        location: { file: shownArg },
      });
    }
    const base = path.basename(absArg);

    if (stat.isFile()) {
      if (!isDataFileName(base)) {
        throw new SamebatchError('E_PATH_KIND', `${shownArg}: not a data file: a file argument must end in .jsonl, .json, .jsonl.gz or .json.gz`, {
          location: { file: shownArg },
        });
      }
      claim(absArg, shownArg);
      files.push({
        path: shownArg,
        absPath: absArg,
        id: uniqueBase(base),
        key: base,
        argIndex,
        fromFileArg: true,
        dirId: '',
        dirKey: '',
        dirPath: '',
        noInBatchNeg: fileMarksNoInBatchNeg(base),
      });
      return;
    }
    if (!stat.isDirectory()) {
      throw new SamebatchError('E_PATH_KIND', `${shownArg}: not a regular file or directory`, { location: { file: shownArg } });
    }

    const rels = listDataFiles(absArg, options.recursive, shownArg).sort(compareByDirThenName);
    if (options.recursive) checkSymlinkLoops(absArg, shownArg, new Set(rels.map(dirOf)));
    if (!options.recursive) {
      for (const [sub, count] of [...subdirsWithData(absArg)].sort((a, b) => compareCodePoints(a[0], b[0]))) {
        passedOver.push({
          path: joinDisplay(shownArg, sub),
          reason: `subdirectory holds ${count} data file(s) below it; not read without --recursive`,
        });
      }
    }
    if (rels.length === 0) {
      const hint = passedOver.some((p) => p.path.startsWith(`${shownArg}/`)) ? ' (its subdirectories hold some: add --recursive)' : '';
      throw new SamebatchError('E_NO_DATA_FILES', `${shownArg}: directory holds no .jsonl, .json, .jsonl.gz or .json.gz data file${hint}`, {
        location: { file: shownArg },
      });
    }

    const argId = uniqueBase(base);
    const argMarked = dirMarksNoInBatchNeg(base);
    let lastDir: string | null = null;
    for (const rel of rels) {
      const relDir = dirOf(rel);
      const dirId = relDir === '' ? argId : `${argId}/${relDir}`;
      const dirKey = relDir === '' ? base : `${base}/${relDir}`;
      const dirPath = joinDisplay(shownArg, relDir);
      if (relDir !== lastDir) {
        directories.push({ id: dirId, path: dirPath, argIndex });
        lastDir = relDir;
      }
      // Under --recursive a subdirectory is marked by its own name or any directory above it.
      const marked = argMarked || (relDir !== '' && relDir.split('/').some(dirMarksNoInBatchNeg));
      const absPath = path.join(absArg, ...rel.split('/'));
      const shown = joinDisplay(shownArg, rel);
      claim(absPath, shown);
      files.push({
        path: shown,
        absPath,
        id: `${argId}/${rel}`,
        key: `${base}/${rel}`,
        argIndex,
        fromFileArg: false,
        dirId,
        dirKey,
        dirPath,
        noInBatchNeg: marked,
      });
    }
  });

  return { files, passedOver, directories };
}
