/**
 * Files given to a knowledge base all at once: dropped (files and folders, as a file manager drags
 * them) or chosen as a folder. Folders are read through, skipping hidden entries as the knowledge
 * service's folder sync does; and since a document is known by its name in its base (a later upload
 * of a name replaces the earlier), only the first file of each name is kept.
 */

/** The part of the File and Directory Entries API a drop gives (Chromium, Firefox and Safari have it). */
interface Entry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
}
interface FileEntry extends Entry {
  file(success: (file: File) => void, failure: (error: unknown) => void): void;
}
interface DirectoryEntry extends Entry {
  createReader(): {
    readEntries(success: (entries: Entry[]) => void, failure: (error: unknown) => void): void;
  };
}

/** Whether a name is a hidden file's or folder's (`.git`, `.DS_Store`), which is left out. */
function hidden(name: string): boolean {
  return name.startsWith(".");
}

/** Every file under an entry, folders read through (a reader answers in batches until an empty one). */
async function filesUnder(entry: Entry): Promise<File[]> {
  if (hidden(entry.name)) return [];
  if (entry.isFile)
    return [await new Promise<File>((resolve, reject) => (entry as FileEntry).file(resolve, reject))];
  if (!entry.isDirectory) return [];
  const reader = (entry as DirectoryEntry).createReader();
  const files: File[] = [];
  for (;;) {
    const batch = await new Promise<Entry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return files;
    for (const child of batch) files.push(...(await filesUnder(child)));
  }
}

/** The files of a drop: its folders read through where the browser gives entries, else its files. */
export async function droppedFiles(data: DataTransfer): Promise<File[]> {
  const entries = Array.from(data.items)
    .filter((item) => item.kind === "file")
    .map((item) => (item.webkitGetAsEntry?.() as Entry | null | undefined) ?? undefined);
  if (entries.length === 0 || entries.some((entry) => entry === undefined)) return Array.from(data.files);
  return (await Promise.all(entries.map((entry) => filesUnder(entry!)))).flat();
}

/** The files of a folder chosen with the folder picker, hidden ones (or ones in hidden folders) left out. */
export function chosenFolderFiles(files: readonly File[]): File[] {
  return files.filter((file) => !(file.webkitRelativePath || file.name).split("/").some(hidden));
}

/** The first file of each name, and the names given more than once (whose later files are left out). */
export function firstOfEachName<F extends { name: string }>(
  files: readonly F[],
): { files: F[]; repeated: string[] } {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  const kept: F[] = [];
  for (const file of files) {
    if (seen.has(file.name)) repeated.add(file.name);
    else {
      seen.add(file.name);
      kept.push(file);
    }
  }
  return { files: kept, repeated: [...repeated] };
}
