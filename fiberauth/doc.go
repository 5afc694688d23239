// Package fiberauth is being written.
package fiberauth
