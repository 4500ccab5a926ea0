package storage

// LoginLockClass is loginLockClass, for the tests that look for the accounts' advisory locks in
// pg_locks.
const LoginLockClass = loginLockClass
