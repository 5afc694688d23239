package core

// MaxHeaderMembers is how many parameters a token header may have.
const MaxHeaderMembers = maxHeaderMembers
