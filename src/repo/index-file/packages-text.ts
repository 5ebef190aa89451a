// The `Packages` member text (W-F1): control blocks (W-C1) with the index-only
// attributes, separated by one empty line, ending with a single "\n".
import { WaptError } from '../../errors.js';
import { parseControl, serializeControl, type ControlFields } from '../../package/index.js';

/**
 * A block ends at an empty or whitespace-only line (W-C1: parsing stops there);
 * several such lines in a row are one separator. CR is tolerated for indexes
 * that went through a Windows editor.
 */
const BLOCK_SEPARATOR = /\r?\n(?:[ \t\r]*\n)+/;

/** W-F1: split the index text into entries; a trailing empty line is accepted. */
export function parsePackagesText(text: string, source = 'Packages'): ControlFields[] {
  const entries: ControlFields[] = [];
  const blocks = text.split(BLOCK_SEPARATOR);
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!;
    if (block.trim() === '') continue; // leading/trailing blank text, or an empty index
    try {
      entries.push(parseControl(block, { source: `${source} entry ${entries.length + 1}` }));
    } catch (err) {
      throw new WaptError('INDEX_INVALID', `${source}: entry ${entries.length + 1} cannot be read: ${(err as Error).message}`, {
        cause: err,
        detail: { entry: entries.length + 1 },
      });
    }
  }
  return entries;
}

/** One index block: the control followed by filename, size, md5sum (and our sha256), W-F1. */
export function serializeIndexEntry(fields: ControlFields): string {
  return serializeControl(fields, { withIndexFields: true });
}

/**
 * W-F1: blocks joined by one empty line, the text ending with a single "\n";
 * an index with no entries is an empty member (as WAPT writes it).
 */
export function joinPackagesBlocks(blocks: readonly string[]): string {
  return blocks.length === 0 ? '' : blocks.join('\n\n') + '\n';
}

export function serializePackagesText(entries: readonly ControlFields[]): string {
  return joinPackagesBlocks(entries.map(serializeIndexEntry));
}
