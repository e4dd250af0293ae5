package tabs

import "errors"

// ErrWriterClosed is returned by Writer.Write after Close, until Reset.
var ErrWriterClosed = errors.New("tabs: write to a closed Writer")
