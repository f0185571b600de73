package catalog

// The embedded catalog is compiled into compiled.go (see Load).
//go:generate go run ./internal/gencatalog -o compiled.go
