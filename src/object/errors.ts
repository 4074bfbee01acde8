/** Errors of the object/ domain: malformed ELF, BTF or relocations, each naming where and what was expected. */
import { TsbpfError } from "../errors.js";

export interface ObjectLocation {
  /** Byte offset in the file (or in the section named by `section`). */
  offset?: number;
  /** Section the problem is in. */
  section?: string;
}

export class ObjectError extends TsbpfError {
  readonly offset: number | undefined;
  readonly section: string | undefined;

  constructor(code: string, message: string, where: ObjectLocation = {}) {
    const at = [
      where.section !== undefined ? `section ${where.section}` : "",
      where.offset !== undefined ? `offset 0x${where.offset.toString(16)}` : "",
    ]
      .filter((s) => s !== "")
      .join(", ");
    super(code, at === "" ? message : `${message} (${at})`);
    this.offset = where.offset;
    this.section = where.section;
  }
}
