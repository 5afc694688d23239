package core

import (
	"fmt"
	"testing"
)

// Every sentinel has its own label, and an *Error is labelled by its own
// sentinel, not by one its cause wraps.
func TestReasonLabelsEverySentinelOnce(t *testing.T) {
	seen := map[string]error{}
	for _, c := range classTable {
		label := build(c.kind, nil).Reason()
		if label == "" || label == "other" {
			t.Errorf("%v has no reason label", c.kind)
		}
		if other, dup := seen[label]; dup {
			t.Errorf("%v and %v share the label %q", c.kind, other, label)
		}
		seen[label] = c.kind
	}
	if got := AsError(fmt.Errorf("x: %w", ErrTokenExpired)).Reason(); got != "malformed" {
		t.Errorf("an error that is not an *Error is labelled by AsError's sentinel: %q", got)
	}
	if got := build(ErrInvalidDPoPProof, ErrDPoPProofReplayed).Reason(); got != "invalid_dpop_proof" {
		t.Errorf("labelled by its cause: %q", got)
	}
	var none *Error
	if none.Reason() != "other" {
		t.Error("a nil *Error is not labelled other")
	}
}
