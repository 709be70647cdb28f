// Clients read some runtime errors by their words, not their exit codes: Docker and Podman turn
// a create whose command is missing into exit 127 and one that may not be executed into 126
// when the message says "executable file not found" / "no such file or directory" or
// "permission denied" (lower case, as runc and Go's errno strings spell them). crun 1.8.1 says
// the same things in other words ("executable file `x` not found in $PATH: No such file or
// directory", "open executable: Permission denied"), so Docker reported 125 on crun. A crun
// message is given runc's words for these; the rest pass as they are.
const REWORDINGS: readonly { crun: RegExp; runc: (m: RegExpMatchArray) => string }[] = [
  // runc looks a path up with stat(2) and a bare name in $PATH, and words each so.
  {
    crun: /executable file `(.*)` not found in \$PATH: No such file or directory/,
    runc: (m) => (m[1]!.includes('/') ? `exec: "${m[1]}": stat ${m[1]}: no such file or directory` : `exec: "${m[1]}": executable file not found in $PATH`),
  },
  { crun: /open executable: Permission denied/, runc: () => 'exec: open executable: permission denied' },
];

/** `message` with crun's wording of a missing or unexecutable command replaced by runc's. */
export function inClientWords(message: string): string {
  for (const { crun, runc } of REWORDINGS) {
    const m = message.match(crun);
    if (m) return message.replace(crun, runc(m));
  }
  return message;
}
