// Package ginauth is being written.
package ginauth
