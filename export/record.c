/* export/record.c - the record type table (see record.h). */
#include "export/record.h"

#define OTS_X_NAME(name, topic, help) #name,
const char *const ots_rec_type_names[OTS_REC_MAX] = { OTS_RECORD_TYPES(OTS_X_NAME) };
#undef OTS_X_NAME
#define OTS_X_TOPIC(name, topic, help) topic,
const char *const ots_rec_default_topics[OTS_REC_MAX] = { OTS_RECORD_TYPES(OTS_X_TOPIC) };
#undef OTS_X_TOPIC
