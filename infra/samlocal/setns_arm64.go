package samlocal

// The setns system call number (the syscall package does not name it).
const sysSetns = 268
