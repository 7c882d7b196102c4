//go:build !linux

package control

import "net"

// peerCred is not implemented here; the socket's mode 0600 is then the
// only guard.
func peerCred(net.Conn) (uid uint32, pid int, err error) {
	return 0, 0, errNoPeerCred
}
