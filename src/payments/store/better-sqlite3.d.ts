// Minimal typings for the parts of better-sqlite3 12 that the ticket store uses
// (@types/better-sqlite3 is not installed). Replace with the real package if it is added.
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult { changes: number, lastInsertRowid: number | bigint }
    interface Statement<Row = unknown> {
      run: (...params: unknown[]) => RunResult
      get: (...params: unknown[]) => Row | undefined
      all: (...params: unknown[]) => Row[]
    }
    interface Options { readonly?: boolean, fileMustExist?: boolean, timeout?: number }
    interface Database {
      readonly open: boolean
      readonly name: string
      prepare: <Row = unknown>(source: string) => Statement<Row>
      exec: (source: string) => Database
      pragma: (source: string, options?: { simple?: boolean }) => unknown
      transaction: <F extends (...args: never[]) => unknown>(fn: F) => F
      close: () => Database
    }
  }
  const Database: new (filename: string, options?: Database.Options) => Database.Database
  export = Database
}
