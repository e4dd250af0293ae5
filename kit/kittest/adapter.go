package kittest

// adapter is a way of putting the kit in front of an application.
type adapter int

const (
	echoAdapter adapter = iota // Manager.Install on Echo
	httpAdapter                // Manager.Wrap around a net/http ServeMux
)

func (a adapter) String() string {
	if a == echoAdapter {
		return "echo"
	}
	return "nethttp"
}
