package kernelmodel

// GRO registration: the engine (dev_gro_receive and the protocols'
// gro_receive/gro_complete) lives in the stack (stack/gro); the kernel keeps
// only where a NAPI instance finds it, as Linux keeps offload_base for
// dev_add_offload.

// SetGRO is the stack's dev_add_offload() for receive: every NAPI instance
// whose GRO hook is unset gets an engine from newGRO on its first
// napi_gro_receive (each instance has its own gro_hash, as napi_struct has).
// nil unregisters: instances that have an engine keep it.
func (k *Kernel) SetGRO(newGRO func(n *NAPI) GROHandler) { k.offload.newGRO = newGRO }

// groHandler is the instance's GRO engine, made on first use.
func (n *NAPI) groHandler() GROHandler {
	if n.GRO == nil && n.k.offload.newGRO != nil {
		n.GRO = n.k.offload.newGRO(n)
	}
	return n.GRO
}

// Feature bits the core adds to every device (NETIF_F_SOFT_FEATURES:
// NETIF_F_GSO | NETIF_F_GRO), set by register_netdevice.
const (
	NETIF_F_GSO           = 1 << 16
	NETIF_F_SOFT_FEATURES = NETIF_F_GSO | NETIF_F_GRO
)
