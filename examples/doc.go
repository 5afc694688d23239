// Package examples is being written.
package examples
