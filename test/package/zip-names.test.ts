// W-A1: member names are relative `/` paths; checkMemberName refuses the rest.
import { WaptError } from '../../src/errors.js';
import { checkMemberName, foldMemberName } from '../../src/package/zip-names.js';

function codeOf(name: string): string | undefined {
  try {
    checkMemberName(name);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(WaptError);
    expect((err as WaptError).detail.member).toBe(name);
    return (err as WaptError).code;
  }
}

describe('checkMemberName', () => {
  it.each([['WAPT/control'], ['setup.py'], ['données/été.txt'], ['dir/'], ['a/b/c.bin'], ['..hidden'], ['a..b/c']])('accepts %j', (name) => {
    expect(codeOf(name)).toBeUndefined();
  });

  it.each([
    ['traversal ../x', '../x'],
    ['traversal in the middle a/../../x', 'a/../../x'],
    ['traversal as last segment a/..', 'a/..'],
    ['absolute /etc/x', '/etc/x'],
    ['drive letter C:/x', 'C:/x'],
    ['drive-relative C:x', 'C:x'],
    ['alternate data stream a.txt:evil', 'a.txt:evil'],
    ['backslash a\\b', 'a\\b'],
    ['backslash traversal ..\\x', '..\\x'],
    ['NUL byte', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['empty segment a//b', 'a//b'],
    ['dot segment ./x', './x'],
    ['empty name', ''],
    ['lone slash', '/'],
    ['double trailing slash dir//', 'dir//'],
  ])('refuses %s', (_title, name) => {
    expect(codeOf(name)).toBe('ZIP_UNSAFE_PATH');
  });
});

describe('foldMemberName', () => {
  it('folds case, Unicode normalisation and Windows trailing dots/spaces to one key', () => {
    expect(foldMemberName('Dir/A.TXT')).toBe(foldMemberName('dir/a.txt'));
    expect(foldMemberName('e\u0301t\u00e9.txt')).toBe(foldMemberName('\u00e9t\u00e9.txt'));
    expect(foldMemberName('a.txt. ')).toBe(foldMemberName('a.txt'));
    expect(foldMemberName('dir/')).toBe(foldMemberName('dir'));
    expect(foldMemberName('a.txt')).not.toBe(foldMemberName('b.txt'));
  });
});
