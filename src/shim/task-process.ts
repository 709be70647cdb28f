// What the engine keeps of each process it serves containerd: a task's init and its execs.
import type { Exit } from './reaper.js';

export interface ProcStdio {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

export interface Proc {
  /** '' for the init. */
  execId: string;
  /** 0 until an exec has started. */
  pid: number;
  stdio: ProcStdio;
  exit: Exit | undefined;
  exited: Promise<Exit>;
  markExited: (exit: Exit) => void;
  /** Set while Start runs: the exit is published only after the start. */
  starting: Promise<unknown> | undefined;
}

export interface ExecProc extends Proc {
  /** The OCI process (JSON), as containerd sent it in ExecProcessRequest.spec. */
  spec: string;
}

export interface TaskEntry extends Proc {
  id: string;
  bundle: string;
  execs: Map<string, ExecProc>;
}

export function newProc(execId: string, pid: number, stdio: ProcStdio): Proc {
  let markExited!: (exit: Exit) => void;
  const exited = new Promise<Exit>((resolve) => (markExited = resolve));
  const proc: Proc = { execId, pid, stdio, exit: undefined, exited, markExited, starting: undefined };
  return proc;
}
