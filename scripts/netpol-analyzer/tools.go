//go:build tools

// Keeps the analyzer's command in the module graph, so `go mod tidy` keeps go.mod and go.sum complete.
package tools

import _ "github.com/np-guard/netpol-analyzer/cmd/netpolicy"
