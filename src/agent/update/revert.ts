// When the DB write after an index replacement fails (disk full), the disk still holds
// the previous state of that repository, but sql.js memory holds the new one. Memory is
// put back from the disk, so the summary of this run and any later write of this run
// say what was persisted, never what was only held in memory.
import { openDb, type RepoRow, type WaptDb } from '../db/index.js';

export async function revertRepoToDisk(db: WaptDb, target: { name: string; url: string }, previous: RepoRow | undefined): Promise<void> {
  const disk = await openDb(db.path);
  let rows;
  let row: RepoRow | undefined;
  try {
    rows = disk.available.all().filter((r) => r.repo === target.name);
    row = disk.repos.get(target.name) ?? previous;
  } finally {
    disk.close();
  }
  db.transaction(() => {
    db.available.replaceRepo(target.name, rows);
    // a repository never stored before goes back to "never updated"
    db.repos.put(
      row ?? {
        name: target.name,
        url: target.url,
        last_update: null,
        etag: null,
        last_modified: null,
        index_version: null,
        index_signed: false,
        index_expires: null,
        packages_count: 0,
        rejected_count: 0,
      },
    );
  });
}
