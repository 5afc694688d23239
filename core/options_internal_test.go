package core

// configured is the configuration New derives from opts, validated as New
// validates it, without starting anything.
func configured(opts ...Option) (*config, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(cfg)
		}
	}
	return cfg, cfg.validate()
}
