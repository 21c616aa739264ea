import { fileReader, type ReaderHandle } from './native';

/** The process's reader thread (native/read-files.c), started by the first batch that needs it: an idle thread costs nothing. */
let reader: ReaderHandle | undefined;
let nextId = 0;

export function readerThread(): ReaderHandle {
  return (reader ??= fileReader!.openReader());
}

/** A batch id, unique in the process. */
export function batchId(): number {
  return nextId++ >>> 0;
}
