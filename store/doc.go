// Package store keeps everything tidings knows — teams, members, messages with
// their raw bytes, threads and the indexes that thread and dedupe them — in one
// bbolt file. It is the only package that imports bbolt, and its API speaks in
// tidings' terms so that another backend can implement it later.
//
// Writes go through Update, which group-commits: calls that arrive while a
// commit is on its way to disk share the next transaction and its fsync, with
// no fixed delay. Update returns only once the transaction is on disk.
package store
