// Package echoauth is being written.
package echoauth
