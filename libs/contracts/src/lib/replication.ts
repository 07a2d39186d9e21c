// Replication status and action DTOs (apps/repl-admin).
export {};
