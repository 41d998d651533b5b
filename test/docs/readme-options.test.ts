import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILD_OPTIONS } from '../../src/options.js';
import { ERROR_CODES } from '../../src/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('opens with exactly the two commands: install + example build, then the test suite', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    const lines = (block?.[1] ?? '').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^npm ci && \.\/bin\/samebatch\.js build fixtures\//);
    expect(lines[1]).toBe('npm test');
  });

  it('documents every option with its default, as declared in the option table', () => {
    const table = section('Options');
    for (const spec of BUILD_OPTIONS) {
      const shownDefault = spec.defaultText ?? (spec.kind === 'flag' ? 'off' : String(spec.default));
      const flag = spec.arg ? `${spec.flag} ${spec.arg.replace('|', '\\|')}` : spec.flag;
      const row = table.split('\n').find((l) => l.startsWith(`| \`${flag}\` |`));
      expect(row, `row for ${spec.flag}`).toBeDefined();
      expect(row?.split(/(?<!\\)\|/)[2]?.trim(), `default of ${spec.flag}`).toBe(shownDefault);
    }
    const rows = table.split('\n').filter((l) => l.startsWith('| `--'));
    expect(rows).toHaveLength(BUILD_OPTIONS.length);
  });

  it('lists every error code under the exit status it maps to', () => {
    const errors = section('Logs, errors and exit status');
    for (const [code, exit] of Object.entries(ERROR_CODES)) {
      const row = errors.split('\n').find((l) => l.includes(`\`${code}\``));
      expect(row, `row naming ${code}`).toBeDefined();
      expect(row?.startsWith(`| ${exit} |`), `${code} listed under exit ${exit}`).toBe(true);
    }
  });
});
